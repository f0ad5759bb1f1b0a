import { isQaqError } from '@qaq/errors';
import { AttentionWorkspace, referenceAttentionMulti, type KvCacheConfig } from '@qaq/kv-cache';
import { normalValues, randomCompactCache, uniformGenerator } from '@qaq/kv-cache/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createAttention } from './create-attention.js';
import type { StartKernelWorker } from './kernel-worker.js';
import { createNodeAttention, startNodeKernelWorker } from './node/node-threads.js';
import { SHAPES, type Shape } from './attention-shapes.test-utils.js';
import { queryBlockSize } from './validate-attention.js';
import { WasmAttention } from './wasm-attention.js';
import { threadsSupported } from './webassembly-runtime.js';


interface Run {
  readonly output: Float32Array;
  readonly probabilities: Float32Array;
}

interface Case {
  readonly shape: Shape;
  readonly config: KvCacheConfig;
  readonly tokenCount: number;
  readonly queryCount: number;
  readonly slidingWindow?: number;
}

/** The same random cache in both kernels' memories, the same queries; outputs and probabilities of both. */
function runBoth(single: WasmAttention, threaded: WasmAttention, testCase: Case, seed: number): { single: Run; threaded: Run; reference: Run } {
  const { shape, tokenCount, queryCount } = testCase;
  const queries = normalValues(queryCount * shape.queryHeads * shape.headDim, uniformGenerator(seed ^ 0x2545f491), 1);
  const options = {
    queryHeads: shape.queryHeads,
    scoreScale: 1 / Math.sqrt(shape.headDim),
    ...(testCase.slidingWindow === undefined ? {} : { slidingWindow: testCase.slidingWindow }),
  };
  const run = (attend: (output: Float32Array, probabilities: Float32Array) => void): Run => {
    const output = new Float32Array(queryCount * shape.queryHeads * shape.headDim).fill(Number.NaN);
    const probabilities = new Float32Array(queryCount * shape.kvHeads * tokenCount).fill(Number.NaN);
    attend(output, probabilities);
    return { output, probabilities };
  };
  const singleCache = randomCompactCache(testCase.config, tokenCount, seed, undefined, (config) => single.createCache(config));
  const threadedCache = randomCompactCache(testCase.config, tokenCount, seed, undefined, (config) => threaded.createCache(config));
  const results = {
    single: run((output, probabilities) => single.attendMulti(singleCache, 0, queries, queryCount, options, output, probabilities)),
    threaded: run((output, probabilities) => threaded.attendMulti(threadedCache, 0, queries, queryCount, options, output, probabilities)),
    reference: run((output, probabilities) =>
      referenceAttentionMulti(singleCache, 0, queries, queryCount, options, output, probabilities, new AttentionWorkspace()),
    ),
  };
  singleCache.dispose();
  threadedCache.dispose();
  return results;
}

/** Largest |a − b| over max(1, max |b|), the measure the single-thread kernel's tests use. */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  let difference = 0;
  let scale = 1;
  for (let index = 0; index < a.length; index += 1) {
    difference = Math.max(difference, Math.abs((a[index] as number) - (b[index] as number)));
    scale = Math.max(scale, Math.abs(b[index] as number));
  }
  return difference / scale;
}

function expectSameAsSingle(results: { single: Run; threaded: Run; reference: Run }, label: string): void {
  const { single, threaded, reference } = results;
  // Chunks sum in another order than one thread: f32 rounding, 1.1e-6 at most seen (600 tokens, no outliers).
  expect(relativeDifference(threaded.output, single.output), `${label}: output vs one thread`).toBeLessThanOrEqual(2e-6);
  expect(relativeDifference(threaded.probabilities, single.probabilities), `${label}: probabilities vs one thread`).toBeLessThanOrEqual(2e-6);
  expect(relativeDifference(threaded.output, reference.output), `${label}: output vs reference`).toBeLessThan(2e-6);
  expect(relativeDifference(threaded.probabilities, reference.probabilities), `${label}: probabilities vs reference`).toBeLessThan(2e-6);
  // Masked entries are exact zeros exactly where the single-thread kernel has them.
  for (let index = 0; index < single.probabilities.length; index += 1) {
    if ((single.probabilities[index] === 0) !== (threaded.probabilities[index] === 0)) {
      throw new Error(`${label}: probability ${index} is ${threaded.probabilities[index]}, one thread has ${single.probabilities[index]}`);
    }
  }
}

describe.runIf(threadsSupported())('threaded kernel (Node worker threads) vs the single-thread kernel', () => {
  const single = WasmAttention.createSync();
  // Small chunks so that short test caches are split into many chunks (several per thread, uneven last chunk).
  const threaded = WasmAttention.createThreaded({ threads: 3, startWorker: startNodeKernelWorker, minimumChunkTokens: 16, chunksPerThread: 3 });
  afterAll(async () => (await threaded).dispose());

  for (const shape of SHAPES) {
    for (const groupLayout of ['token-layer-head', 'token-layer'] as const) {
      it(`${shape.name}, ${groupLayout}: decode, prefill chunk, sliding window, a row seeing one chunk only`, async () => {
        const kernel = await threaded;
        expect(kernel.threadCount).toBe(3);
        const base = { layers: 1, kvHeads: shape.kvHeads, headDim: shape.headDim, groupLayout, initialCapacityTokens: 4 };
        const cases: Case[] = [
          { shape, config: { ...base, outlierFraction: 0.02, recentWindow: 8 }, tokenCount: 701, queryCount: 1 },
          { shape, config: { ...base, outlierFraction: 0.05 }, tokenCount: 230, queryCount: 1 },
          { shape, config: { ...base, outlierFraction: 0.02, recentWindow: 4 }, tokenCount: 197, queryCount: 13 },
          { shape, config: { ...base, outlierFraction: 0.01, recentWindow: 3 }, tokenCount: 320, queryCount: 9, slidingWindow: 57 },
          // A window shorter than a chunk: early rows see none of the newest chunk's tokens.
          { shape, config: { ...base }, tokenCount: 260, queryCount: 40, slidingWindow: 10 },
          // No outliers, one query position: every KV head scored in one pass over the chunk (scoreAllHeads).
          { shape, config: { ...base, recentWindow: 5 }, tokenCount: 733, queryCount: 1 },
          { shape, config: { ...base }, tokenCount: 611, queryCount: 1, slidingWindow: 300 },
        ];
        cases.forEach((testCase, index) => {
          expectSameAsSingle(runBoth(single, kernel, testCase, 100 * index + shape.headDim + (groupLayout === 'token-layer' ? 3 : 0)), `case ${index}`);
        });
      });
    }
  }

  it('a prefill spanning several query blocks matches', async () => {
    const shape = SHAPES[0] as Shape;
    expect(queryBlockSize(3, 400, 64)).toBeLessThan(400);
    const testCase: Case = { shape, config: { layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.02, recentWindow: 16 }, tokenCount: 400, queryCount: 400 };
    expectSameAsSingle(runBoth(single, await threaded, testCase, 4243), 'prefill');
  });

  it('with probabilityRows keeps exactly the last rows of the full split call', async () => {
    const kernel = await threaded;
    const shape = SHAPES[0] as Shape;
    const config = { layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.02, recentWindow: 16 };
    const tokenCount = 400;
    const queryCount = 400;
    const cache = randomCompactCache(config, tokenCount, 91, undefined, (resolved) => kernel.createCache(resolved));
    const queries = normalValues(queryCount * shape.queryHeads * shape.headDim, uniformGenerator(92), 1);
    const base = { queryHeads: shape.queryHeads, scoreScale: 1 / 8 };
    const rowLength = shape.kvHeads * tokenCount;
    const outputLength = queryCount * shape.queryHeads * shape.headDim;
    const fullOutput = new Float32Array(outputLength);
    const full = new Float32Array(queryCount * rowLength);
    kernel.attendMulti(cache, 0, queries, queryCount, base, fullOutput, full);
    for (const rows of [1, 5, 399]) {
      const output = new Float32Array(outputLength);
      const probabilities = new Float32Array(rows * rowLength).fill(Number.NaN);
      kernel.attendMulti(cache, 0, queries, queryCount, { ...base, probabilityRows: rows }, output, probabilities);
      expect(output).toEqual(fullOutput);
      expect(probabilities).toEqual(full.subarray((queryCount - rows) * rowLength));
    }
    cache.dispose();
  });

  it('is deterministic: which thread runs which chunk does not change a bit of the result', async () => {
    const kernel = await threaded;
    const shape = SHAPES[0] as Shape;
    const cache = randomCompactCache({ layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.02, recentWindow: 8 }, 900, 21, undefined, (config) =>
      kernel.createCache(config),
    );
    const queries = normalValues(4 * shape.queryHeads * shape.headDim, uniformGenerator(22), 1);
    const first = { output: new Float32Array(4 * 9 * 64), probabilities: new Float32Array(4 * 3 * 900) };
    kernel.attendMulti(cache, 0, queries, 4, { queryHeads: 9, scoreScale: 0.125 }, first.output, first.probabilities);
    for (let repeat = 0; repeat < 20; repeat += 1) {
      const again = { output: new Float32Array(4 * 9 * 64), probabilities: new Float32Array(4 * 3 * 900) };
      kernel.attendMulti(cache, 0, queries, 4, { queryHeads: 9, scoreScale: 0.125 }, again.output, again.probabilities);
      expect(again.output).toEqual(first.output);
      expect(again.probabilities).toEqual(first.probabilities);
    }
    cache.dispose();
  });

  it('splitPhaseTimes: split calls add their phases, calls on the calling thread add nothing, the result is unchanged', async () => {
    const kernel = await threaded;
    const shape = SHAPES[0] as Shape;
    const config = { layers: 1, kvHeads: 3, headDim: 64, groupLayout: 'token-layer' as const };
    const cache = randomCompactCache(config, 600, 31, undefined, (resolved) => kernel.createCache(resolved));
    const queries = normalValues(shape.queryHeads * shape.headDim, uniformGenerator(32), 1);
    const output = (): Float32Array => new Float32Array(shape.queryHeads * shape.headDim);
    const untimed = output();
    const base = { queryHeads: shape.queryHeads, scoreScale: 0.125 };
    kernel.attendMulti(cache, 0, queries, 1, { ...base, negligibleProbability: 1e-5 }, untimed, null);
    const times = { scores: 0, values: 0, merge: 0, calls: 0 };
    kernel.splitPhaseTimes = times;
    try {
      const timed = output();
      kernel.attendMulti(cache, 0, queries, 1, { ...base, negligibleProbability: 1e-5 }, timed, null);
      expect(timed).toEqual(untimed);
      expect(times.calls).toBe(1);
      expect(times.scores).toBeGreaterThan(0);
      expect(times.values).toBeGreaterThan(0);
      expect(times.merge).toBeGreaterThanOrEqual(0);
      // Nothing skipped: one pass, timed as scores.
      const before = { ...times };
      kernel.attendMulti(cache, 0, queries, 1, base, output(), null);
      expect(times.calls).toBe(2);
      expect(times.scores).toBeGreaterThan(before.scores);
      expect(times.values).toBe(before.values);
      // Eight tokens are under two chunks of 16: the call runs on the calling thread, unsplit and untimed.
      const short = randomCompactCache(config, 8, 33, undefined, (resolved) => kernel.createCache(resolved));
      kernel.attendMulti(short, 0, queries, 1, base, output(), null);
      expect(times.calls).toBe(2);
      short.dispose();
    } finally {
      kernel.splitPhaseTimes = null;
      cache.dispose();
    }
  });

  it('calls shorter than two chunks run on the calling thread: bitwise the single-thread result', async () => {
    const kernel = await WasmAttention.createThreaded({ threads: 2, startWorker: startNodeKernelWorker });
    try {
      const shape = SHAPES[0] as Shape;
      const testCase: Case = { shape, config: { layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.02, recentWindow: 8 }, tokenCount: 300, queryCount: 1 };
      const results = runBoth(single, kernel, testCase, 11);
      expect(results.threaded.output).toEqual(results.single.output);
      expect(results.threaded.probabilities).toEqual(results.single.probabilities);
    } finally {
      await kernel.dispose();
    }
  });

  it('keeps working while the shared memory grows under running workers (the arena grows; nothing copied)', async () => {
    const kernel = await WasmAttention.createThreaded({ threads: 2, startWorker: startNodeKernelWorker, minimumChunkTokens: 64 });
    try {
      const before = kernel.memoryBytes;
      const shape = SHAPES[0] as Shape;
      const config = { layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.02, initialCapacityTokens: 1 };
      expectSameAsSingle(runBoth(single, kernel, { shape, config, tokenCount: 300, queryCount: 1 }, 5), 'small');
      expectSameAsSingle(runBoth(single, kernel, { shape, config, tokenCount: 4000, queryCount: 1 }, 6), 'grown');
      expect(kernel.memoryBytes).toBeGreaterThan(before);
    } finally {
      await kernel.dispose();
    }
  });

  it('dispose ends the workers; later calls throw kernel-disposed', async () => {
    const kernel = await WasmAttention.createThreaded({ threads: 2, startWorker: startNodeKernelWorker });
    const cache = kernel.createCache({ layers: 1, kvHeads: 1, headDim: 8 });
    const data = new Float32Array(8).fill(1);
    cache.append(0, data, data, 1, 4, 4);
    await kernel.dispose();
    await kernel.dispose();
    let caught: unknown;
    try {
      kernel.attendMulti(cache, 0, data, 1, { queryHeads: 1, scoreScale: 1 }, new Float32Array(8), null);
    } catch (error) {
      caught = error;
    }
    expect(isQaqError(caught, 'kernel-disposed')).toBe(true);
  });

  it('a worker that cannot start rejects with attention-worker-failed', async () => {
    const broken: StartKernelWorker = (init) => startNodeKernelWorker({ ...init, module: null });
    await expect(WasmAttention.createThreaded({ threads: 2, startWorker: broken })).rejects.toMatchObject({ code: 'attention-worker-failed' });
  });

  it('a worker that traps mid-call makes the call throw attention-worker-failed, and every later call too', async () => {
    // Thread index 4000 puts the worker's scratch far past the 256-page memory: its first chunk traps.
    const trapping: StartKernelWorker = (init) => startNodeKernelWorker({ ...init, thread: 4000 });
    const kernel = await WasmAttention.createThreaded({ threads: 2, startWorker: trapping, maximumPages: 256, minimumChunkTokens: 4, chunksPerThread: 32 });
    try {
      const cache = randomCompactCache({ layers: 1, kvHeads: 3, headDim: 64 }, 2048, 3, [4], (config) => kernel.createCache(config));
      const queries = normalValues(9 * 64, uniformGenerator(1), 1);
      const output = new Float32Array(9 * 64);
      const attend = (): void => kernel.attendMulti(cache, 0, queries, 1, { queryHeads: 9, scoreScale: 0.125 }, output, null);
      let failure: unknown = null;
      // The worker traps on the first chunk it claims; the calling thread may finish a few calls alone first.
      for (let call = 0; call < 500 && failure === null; call += 1) {
        try {
          attend();
        } catch (error) {
          failure = error;
        }
      }
      expect(isQaqError(failure, 'attention-worker-failed')).toBe(true);
      expect(attend).toThrow(/worker/);
    } finally {
      await kernel.dispose();
    }
  });

  it('where shared memory is unavailable (a page without cross-origin isolation) createAttention falls back to one thread', async () => {
    const host = globalThis as { crossOriginIsolated?: boolean };
    host.crossOriginIsolated = false;
    try {
      const attention = await createAttention({ threads: 2, startWorker: startNodeKernelWorker });
      expect(attention.kind).toBe('wasm-simd');
      expect(attention.threadCount).toBe(1);
      await expect(WasmAttention.createThreaded({ threads: 2, startWorker: startNodeKernelWorker })).rejects.toMatchObject({
        code: 'shared-memory-unavailable',
      });
    } finally {
      delete host.crossOriginIsolated;
    }
  });

  it('createAttention and createNodeAttention make the threaded kernel; options are checked', async () => {
    const viaNode = await createNodeAttention({ threads: 2 });
    expect(viaNode.kind).toBe('wasm-simd');
    expect(viaNode.threadCount).toBe(2);
    await viaNode.dispose?.();
    const plain = await createAttention();
    expect(plain.threadCount).toBe(1);
    await expect(createAttention({ threads: 2 })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(createAttention({ threads: 0 })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(WasmAttention.createThreaded({ threads: 65, startWorker: startNodeKernelWorker })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(
      WasmAttention.createThreaded({ threads: 2, startWorker: startNodeKernelWorker, minimumChunkTokens: 0 }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(
      WasmAttention.createThreaded({ threads: 2, startWorker: startNodeKernelWorker, chunksPerThread: 65 }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
