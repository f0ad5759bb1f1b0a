import { AttentionWorkspace, KvCache, referenceAttentionMulti, type KvCacheConfig } from '@qaq/kv-cache';
import { describe, expect, it } from 'vitest';
import { JsAttention } from './js-attention.js';
import { normalValues, randomCompactCache, uniformGenerator } from '@qaq/kv-cache/testing';
import { SHAPES, type Shape } from './attention-shapes.test-utils.js';
import { queryBlockSize, type KernelAttentionOptions } from './validate-attention.js';
import { WasmAttention } from './wasm-attention.js';
import { simdSupported } from './webassembly-runtime.js';


function maxAbsDifference(a: Float32Array, b: Float32Array, length: number): { difference: number; scale: number } {
  let difference = 0;
  let scale = 0;
  for (let index = 0; index < length; index += 1) {
    difference = Math.max(difference, Math.abs((a[index] as number) - (b[index] as number)));
    scale = Math.max(scale, Math.abs(b[index] as number));
  }
  return { difference, scale };
}

interface Case {
  readonly shape: Shape;
  readonly config: KvCacheConfig;
  readonly tokenCount: number;
  readonly queryCount: number;
  readonly slidingWindow?: number;
}

function runCase(
  kernel: WasmAttention,
  js: JsAttention,
  testCase: Case,
  seed: number,
  widths?: readonly number[],
): { wasm: number; js: number; probabilities: number; slotIndexBytes: number } {
  const { shape, tokenCount, queryCount } = testCase;
  const cache = randomCompactCache(testCase.config, tokenCount, seed, widths, (config) => kernel.createCache(config));
  const slotIndexBytes = cache.store('keys', 0).arenaOffsets.slotIndexBytes;
  const uniform = uniformGenerator(seed ^ 0x5bd1e995);
  const queries = normalValues(queryCount * shape.queryHeads * shape.headDim, uniform, 1);
  const options = {
    queryHeads: shape.queryHeads,
    scoreScale: 1 / Math.sqrt(shape.headDim),
    ...(testCase.slidingWindow === undefined ? {} : { slidingWindow: testCase.slidingWindow }),
  };
  const outputLength = queryCount * shape.queryHeads * shape.headDim;
  const probabilityLength = queryCount * shape.kvHeads * tokenCount;
  const expected = new Float32Array(outputLength);
  const expectedProbabilities = new Float32Array(probabilityLength);
  referenceAttentionMulti(cache, 0, queries, queryCount, options, expected, expectedProbabilities, new AttentionWorkspace());
  const wasmOutput = new Float32Array(outputLength).fill(Number.NaN);
  const wasmProbabilities = new Float32Array(probabilityLength).fill(Number.NaN);
  kernel.attendMulti(cache, 0, queries, queryCount, options, wasmOutput, wasmProbabilities);
  const jsOutput = new Float32Array(outputLength).fill(Number.NaN);
  const jsProbabilities = new Float32Array(probabilityLength).fill(Number.NaN);
  js.attendMulti(cache, 0, queries, queryCount, options, jsOutput, jsProbabilities);
  const wasm = maxAbsDifference(wasmOutput, expected, outputLength);
  const jsDifference = maxAbsDifference(jsOutput, expected, outputLength);
  const probabilities = Math.max(
    maxAbsDifference(wasmProbabilities, expectedProbabilities, probabilityLength).difference,
    maxAbsDifference(jsProbabilities, expectedProbabilities, probabilityLength).difference,
  );
  // Masked entries must be exact zeros, as in the reference.
  for (let index = 0; index < probabilityLength; index += 1) {
    if (expectedProbabilities[index] === 0) {
      expect(wasmProbabilities[index]).toBe(0);
      expect(jsProbabilities[index]).toBe(0);
    }
  }
  cache.dispose();
  return {
    wasm: wasm.difference / Math.max(1, wasm.scale),
    js: jsDifference.difference / Math.max(1, jsDifference.scale),
    probabilities,
    slotIndexBytes,
  };
}

describe.runIf(simdSupported())('WASM SIMD kernel vs referenceAttention over random compact caches', () => {
  const kernel = WasmAttention.createSync();
  const js = new JsAttention();
  for (const shape of SHAPES) {
    for (const groupLayout of ['token-layer-head', 'token-layer'] as const) {
      it(`${shape.name}, ${groupLayout}: decode, prefill chunk, sliding window`, () => {
        const base = { layers: 1, kvHeads: shape.kvHeads, headDim: shape.headDim, groupLayout, initialCapacityTokens: 4 };
        const cases: Case[] = [
          { shape, config: { ...base, outlierFraction: 0.02, recentWindow: 8 }, tokenCount: 301, queryCount: 1 },
          { shape, config: { ...base, outlierFraction: 0.05 }, tokenCount: 150, queryCount: 1 },
          { shape, config: { ...base, outlierFraction: 0.02, recentWindow: 4 }, tokenCount: 97, queryCount: 13 },
          { shape, config: { ...base, outlierFraction: 0.01, recentWindow: 3 }, tokenCount: 120, queryCount: 9, slidingWindow: 17 },
          { shape, config: { ...base }, tokenCount: 5, queryCount: 5 },
          // No outliers, one query position: groups spanning every KV head are scored in one pass (scoreAllHeads).
          { shape, config: { ...base, recentWindow: 6 }, tokenCount: 211, queryCount: 1 },
          { shape, config: { ...base }, tokenCount: 150, queryCount: 1, slidingWindow: 40 },
        ];
        cases.forEach((testCase, index) => {
          const errors = runCase(kernel, js, testCase, 1000 * index + shape.headDim + (groupLayout === 'token-layer' ? 7 : 0));
          expect(errors.wasm, `case ${index}`).toBeLessThan(2e-6);
          expect(errors.js, `case ${index}`).toBeLessThan(1e-7);
          expect(errors.probabilities, `case ${index}`).toBeLessThan(2e-6);
        });
      });
    }
  }

  it('a whole-prompt prefill spanning several query blocks (bounded scratch) matches too', () => {
    const shape = SHAPES[0] as Shape;
    expect(queryBlockSize(3, 300, 64)).toBeLessThan(300);
    const testCase: Case = { shape, config: { layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.02, recentWindow: 16 }, tokenCount: 300, queryCount: 300 };
    const errors = runCase(kernel, js, testCase, 4242);
    expect(errors.wasm).toBeLessThan(2e-6);
    expect(errors.js).toBeLessThan(1e-7);
    expect(errors.probabilities).toBeLessThan(2e-6);
  });

  it('with probabilityRows keeps exactly the last rows of the full call, across query blocks (wasm, js, reference)', () => {
    const shape = SHAPES[0] as Shape;
    const config = { layers: 1, kvHeads: shape.kvHeads, headDim: shape.headDim, outlierFraction: 0.02, recentWindow: 4 };
    const tokenCount = 300;
    const queryCount = 280;
    expect(queryBlockSize(shape.queryHeads / shape.kvHeads, tokenCount, shape.headDim)).toBeLessThan(queryCount - 5);
    const cache = randomCompactCache(config, tokenCount, 77, undefined, (resolved) => kernel.createCache(resolved));
    const queries = normalValues(queryCount * shape.queryHeads * shape.headDim, uniformGenerator(78), 1);
    const base: KernelAttentionOptions = { queryHeads: shape.queryHeads, scoreScale: 1 / Math.sqrt(shape.headDim), slidingWindow: 200 };
    const rowLength = shape.kvHeads * tokenCount;
    const outputLength = queryCount * shape.queryHeads * shape.headDim;
    const implementations = [
      (options: KernelAttentionOptions, output: Float32Array, probabilities: Float32Array) => kernel.attendMulti(cache, 0, queries, queryCount, options, output, probabilities),
      (options: KernelAttentionOptions, output: Float32Array, probabilities: Float32Array) => js.attendMulti(cache, 0, queries, queryCount, options, output, probabilities),
      (options: KernelAttentionOptions, output: Float32Array, probabilities: Float32Array) =>
        referenceAttentionMulti(cache, 0, queries, queryCount, options, output, probabilities, new AttentionWorkspace()),
    ];
    for (const attend of implementations) {
      const fullOutput = new Float32Array(outputLength);
      const full = new Float32Array(queryCount * rowLength);
      attend(base, fullOutput, full);
      for (const rows of [1, 5, queryCount - 1, queryCount, 1000]) {
        const kept = Math.min(rows, queryCount);
        const output = new Float32Array(outputLength);
        const probabilities = new Float32Array(kept * rowLength).fill(Number.NaN);
        attend({ ...base, probabilityRows: rows }, output, probabilities);
        expect(output).toEqual(fullOutput);
        expect(probabilities).toEqual(full.subarray((queryCount - kept) * rowLength));
      }
      // A buffer for fewer rows than asked is refused before anything is written.
      expect(() => attend({ ...base, probabilityRows: 5 }, new Float32Array(outputLength), new Float32Array(4 * rowLength))).toThrow(
        /maxProbabilities must be/,
      );
      expect(() => attend({ ...base, probabilityRows: 0 }, new Float32Array(outputLength), new Float32Array(rowLength))).toThrow(
        /probabilityRows must be a positive integer/,
      );
    }
    cache.dispose();
  });

  it('reads 32-bit slot indices (a pool past 65,536 slots)', () => {
    const shape: Shape = { name: 'wide', queryHeads: 6, kvHeads: 3, headDim: 8 };
    const testCase: Case = { shape, config: { layers: 1, kvHeads: 3, headDim: 8, initialCapacityTokens: 1024 }, tokenCount: 23_000, queryCount: 1 };
    const errors = runCase(kernel, js, testCase, 7, [4]);
    expect(errors.slotIndexBytes).toBe(4);
    expect(errors.wasm).toBeLessThan(2e-6);
    expect(errors.probabilities).toBeLessThan(2e-6);
  });

  it('reads caches that grew the kernel memory after they were made (views re-derived, nothing copied)', () => {
    const fresh = WasmAttention.createSync();
    const shape = SHAPES[0] as Shape;
    const before = fresh.memoryBytes;
    const testCase: Case = { shape, config: { layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.02, initialCapacityTokens: 1 }, tokenCount: 4000, queryCount: 1 };
    const errors = runCase(fresh, js, testCase, 99);
    expect(fresh.memoryBytes).toBeGreaterThan(before);
    expect(errors.wasm).toBeLessThan(2e-6);
  });

  it('rejects caches outside its memory and bad shapes before touching memory', () => {
    const heapCache = new KvCache({ layers: 1, kvHeads: 1, headDim: 8 });
    const data = new Float32Array(8).fill(1);
    heapCache.append(0, data, data, 1, 4, 4);
    const output = new Float32Array(8);
    expect(() => kernel.attendMulti(heapCache, 0, data, 1, { queryHeads: 1, scoreScale: 1 }, output, null)).toThrow(/not made by this kernel/);
    const cache = kernel.createCache({ layers: 1, kvHeads: 1, headDim: 8 });
    cache.append(0, data, data, 1, 4, 4);
    expect(() => kernel.attendMulti(cache, 0, new Float32Array(7), 1, { queryHeads: 1, scoreScale: 1 }, output, null)).toThrow(/queries must be/);
    expect(() => kernel.attendMulti(cache, 0, data, 1, { queryHeads: 1, scoreScale: 0 }, output, null)).toThrow(/scoreScale/);
    expect(() => kernel.attendMulti(cache, 0, data, 2, { queryHeads: 1, scoreScale: 1 }, output, null)).toThrow(/queryCount/);
  });
});
