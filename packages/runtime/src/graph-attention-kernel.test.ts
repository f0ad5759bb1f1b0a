import { describe, expect, it } from 'vitest';
import { createNodeBackend } from '@qaq/backend-node';
import type { Backend, SessionOptions } from '@qaq/backend-spec';
import { referenceAttentionMulti, type KvCacheConfig } from '@qaq/kv-cache';
import { GraphAttentionKernel, halfPrecisionInputsFor } from './graph-attention-kernel.js';
import { ALL_WIDTHS, normalValues, randomCompactCache, uniformGenerator } from '@qaq/kv-cache/testing';

const backend = createNodeBackend();
/** Widths that held groups in some compared cache, per kind: the suite must exercise all of them. */
const exercised = { keys: new Set<number>(), values: new Set<number>() };

interface Case {
  readonly name: string;
  readonly queryHeads: number;
  readonly config: KvCacheConfig;
  readonly tokens: number;
}

const cases: readonly Case[] = [
  { name: 'SmolLM2 9q/3kv/64, per-head groups, α 5 %, recent 8', queryHeads: 9, config: { layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.05, recentWindow: 8 }, tokens: 150 },
  { name: 'GQA 4q/2kv/32, per-token groups, α 5 %', queryHeads: 4, config: { layers: 1, kvHeads: 2, headDim: 32, groupLayout: 'token-layer', outlierFraction: 0.05, recentWindow: 4 }, tokens: 90 },
  { name: 'Gemma 3 4q/1kv/256, α 2 %', queryHeads: 4, config: { layers: 1, kvHeads: 1, headDim: 256, outlierFraction: 0.02, recentWindow: 16 }, tokens: 70 },
  { name: '2-byte outlier positions: 6q/3kv/128 per-token groups (384 elements), α 2 %', queryHeads: 6, config: { layers: 1, kvHeads: 3, headDim: 128, groupLayout: 'token-layer', outlierFraction: 0.02 }, tokens: 60 },
  { name: 'no outliers, no recent window: MHA 2q/2kv/24', queryHeads: 2, config: { layers: 1, kvHeads: 2, headDim: 24 }, tokens: 40 },
];

/** Largest |graph − reference| / max(1, |reference|) and largest |probability difference|. */
async function compare(kernel: GraphAttentionKernel, testCase: Case, seed: number, queryCount: number, slidingWindow?: number): Promise<{ output: number; probabilities: number }> {
  const cache = randomCompactCache(testCase.config, testCase.tokens, seed, ALL_WIDTHS, (config) => kernel.createCache(config));
  const { kvHeads, headDim } = cache;
  for (const kind of ['keys', 'values'] as const) {
    cache.store(kind, 0).pools.forEach((pool, bits) => {
      if (pool !== undefined && pool.liveSlots > 0) exercised[kind].add(bits);
    });
  }
  const rowLength = testCase.queryHeads * headDim;
  const queries = normalValues(queryCount * rowLength, uniformGenerator(seed + 1), 0.7);
  const options = { queryHeads: testCase.queryHeads, scoreScale: 1 / Math.sqrt(headDim), ...(slidingWindow === undefined ? {} : { slidingWindow }) };
  const probabilityLength = queryCount * kvHeads * testCase.tokens;
  const expected = new Float32Array(queryCount * rowLength);
  const expectedProbabilities = new Float32Array(probabilityLength);
  referenceAttentionMulti(cache, 0, queries, queryCount, options, expected, expectedProbabilities);
  const actual = new Float32Array(queryCount * rowLength);
  const actualProbabilities = new Float32Array(probabilityLength).fill(Number.NaN);
  await kernel.attendMulti(cache, 0, queries, queryCount, options, actual, actualProbabilities);
  let output = 0;
  expected.forEach((value, index) => {
    output = Math.max(output, Math.abs(value - (actual[index] as number)) / Math.max(1, Math.abs(value)));
  });
  let probabilities = 0;
  expectedProbabilities.forEach((value, index) => {
    const other = actualProbabilities[index] as number;
    // Masked entries must be exactly 0, as in the reference.
    if (value === 0) expect(other).toBe(0);
    probabilities = Math.max(probabilities, Math.abs(value - other));
  });
  return { output, probabilities };
}

describe('GraphAttentionKernel (onnxruntime-node CPU EP) against referenceAttentionMulti', () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const kernel = new GraphAttentionKernel({ backend, session: { intraOpThreads: 1 } });
      const results = [
        await compare(kernel, testCase, 11, 1),
        await compare(kernel, testCase, 12, 5),
        await compare(kernel, testCase, 13, 3, 7),
        await compare(kernel, testCase, 14, 1, 9),
        await compare(kernel, testCase, 15, 4, 6.5),
      ];
      for (const result of results) {
        expect(result.output).toBeLessThan(2e-5);
        expect(result.probabilities).toBeLessThan(2e-6);
      }
      console.log(testCase.name, results.map((result) => `${result.output.toExponential(1)}/${result.probabilities.toExponential(1)}`).join(' '));
      await kernel.dispose();
    });
  }

  it('feeds widths seen before as one-slot placeholders, so layers with different pools share one session', async () => {
    const kernel = new GraphAttentionKernel({ backend, session: { intraOpThreads: 1 } });
    const testCase = cases[0] as Case;
    const config = { ...testCase.config, recentWindow: 0 };
    for (const [seed, widths] of [
      [21, [2, 16]],
      [22, [5, 8]],
      [23, [2]],
      [24, [8, 16]],
    ] as const) {
      const cache = randomCompactCache(config, 50, seed, widths, (made) => kernel.createCache(made));
      const queries = normalValues(testCase.queryHeads * cache.headDim, uniformGenerator(seed), 0.7);
      const options = { queryHeads: testCase.queryHeads, scoreScale: 0.125 };
      const expected = new Float32Array(queries.length);
      const actual = new Float32Array(queries.length);
      referenceAttentionMulti(cache, 0, queries, 1, options, expected, null);
      await kernel.attendMulti(cache, 0, queries, 1, options, actual, null);
      expected.forEach((value, index) => expect(Math.abs(value - (actual[index] as number))).toBeLessThan(2e-5 * Math.max(1, Math.abs(value))));
    }
    // {2, 16}, then {2, 5, 8, 16} for every later call.
    expect(kernel.sessionCount).toBe(2);
    await kernel.dispose();
  });

  it("halfPrecisionInputs 'float32' (fp16 arrays widened per call) matches the reference as the float16 feeds do", async () => {
    const testCase = cases[0] as Case;
    const kernel = new GraphAttentionKernel({ backend, session: { intraOpThreads: 1 }, halfPrecisionInputs: 'float32' });
    const result = await compare(kernel, testCase, 31, 3, 7);
    expect(result.output).toBeLessThan(2e-5);
    expect(result.probabilities).toBeLessThan(2e-6);
    // Fed as float32: the fp16 arrays count twice their stored bytes, and the widening buffers hold one layer's.
    expect(kernel.wideningBytes).toBeGreaterThan(0);
    await kernel.dispose();
  });

  it("'auto' widens for a WebGPU adapter without shader-f16 and turns QDQ rewrites off on GPU providers", async () => {
    const requested: (SessionOptions & { configEntries?: Record<string, string> })[] = [];
    // backend-node standing in for a WebGPU backend: what the kernel reads (adapter, provider) and asks for is recorded.
    const gpuLike = (shaderF16: boolean): Backend =>
      ({
        ...backend,
        adapter: { shaderF16 },
        provider: 'webgpu',
        createTensor: backend.createTensor.bind(backend),
        createSession: (model: Uint8Array, options?: SessionOptions) => {
          requested.push(options ?? {});
          return backend.createSession(model, { intraOpThreads: 1 });
        },
      }) as Backend;
    expect(new GraphAttentionKernel({ backend: gpuLike(true) }).halfPrecisionInputs).toBe('float16');
    expect(new GraphAttentionKernel({ backend }).halfPrecisionInputs).toBe('float16');
    expect(halfPrecisionInputsFor(gpuLike(false))).toBe('float32');
    const kernel = new GraphAttentionKernel({ backend: gpuLike(false), session: { executionProviders: ['webgpu'] } });
    expect(kernel.halfPrecisionInputs).toBe('float32');
    const result = await compare(kernel, cases[1] as Case, 32, 2);
    expect(result.output).toBeLessThan(2e-5);
    expect(requested).toEqual([{ executionProviders: ['webgpu'], configEntries: { 'session.disable_quant_qdq': '1' } }]);
    await kernel.dispose();
    // A caller's own entry wins; CPU sessions get no entry.
    const own = new GraphAttentionKernel({ backend: gpuLike(false), session: { configEntries: { 'session.disable_quant_qdq': '0' } } as SessionOptions });
    await compare(own, cases[4] as Case, 33, 1);
    expect(requested[1]).toEqual({ configEntries: { 'session.disable_quant_qdq': '0' } });
    await own.dispose();
    const onCpu = new GraphAttentionKernel({ backend: { ...gpuLike(false), provider: 'wasm' } as Backend });
    await compare(onCpu, cases[4] as Case, 34, 1);
    expect(requested[2]).toEqual({});
    await onCpu.dispose();
    expect(() => new GraphAttentionKernel({ backend, halfPrecisionInputs: 'bfloat16' as never })).toThrow(/halfPrecisionInputs/);
  });

  it('with probabilityRows writes exactly the last rows of the full call', async () => {
    const kernel = new GraphAttentionKernel({ backend });
    const testCase = cases[0] as Case;
    const cache = randomCompactCache(testCase.config, testCase.tokens, 5150, ALL_WIDTHS, (config) => kernel.createCache(config));
    const queryCount = 20;
    const rowLength = testCase.queryHeads * cache.headDim;
    const probabilityRow = cache.kvHeads * testCase.tokens;
    const queries = normalValues(queryCount * rowLength, uniformGenerator(5151), 0.7);
    const options = { queryHeads: testCase.queryHeads, scoreScale: 1 / Math.sqrt(cache.headDim) };
    const fullOutput = new Float32Array(queryCount * rowLength);
    const full = new Float32Array(queryCount * probabilityRow);
    await kernel.attendMulti(cache, 0, queries, queryCount, options, fullOutput, full);
    const output = new Float32Array(queryCount * rowLength);
    const lastRows = new Float32Array(5 * probabilityRow).fill(Number.NaN);
    await kernel.attendMulti(cache, 0, queries, queryCount, { ...options, probabilityRows: 5 }, output, lastRows);
    expect(output).toEqual(fullOutput);
    expect(lastRows).toEqual(full.subarray(15 * probabilityRow));
    await kernel.dispose();
  });

  it('exercised every pool width (1..8 and the fp16 window) for keys and values', () => {
    expect([...exercised.keys].sort((a, b) => a - b)).toEqual(ALL_WIDTHS);
    expect([...exercised.values].sort((a, b) => a - b)).toEqual(ALL_WIDTHS);
  });
});
