import { referenceAttentionMulti, type KvCacheConfig } from '@qaq/kv-cache';
import type { GraphAttentionKernel } from '@qaq/runtime';
import { normalValues, randomCompactCache, uniformGenerator } from './random-compact-cache.js';

/** One compared call: a layer shape, a random cache and a query block. */
export interface ComparisonCase {
  readonly name: string;
  readonly queryHeads: number;
  readonly config: KvCacheConfig;
  readonly tokens: number;
  readonly seed: number;
  /** Query rows in the call (1: decode; more: a causal prefill chunk at the end of the cache). */
  readonly queryCount: number;
  readonly slidingWindow?: number;
}

export interface ComparisonResult {
  readonly name: string;
  readonly tokens: number;
  readonly queryCount: number;
  /** max |graph − reference| / max(1, |reference|) over the attention output. */
  readonly outputError: number;
  /** max |graph − reference| over the per-KV-head max probabilities (the policy's statistic). */
  readonly probabilityError: number;
  /** Probabilities the reference masks (exactly 0) that the graph did not return as exactly 0. */
  readonly maskedNonZero: number;
  /** Widths (1..8, 16) holding groups in this cache, per kind. */
  readonly keyWidths: readonly number[];
  readonly valueWidths: readonly number[];
  /** Wall time of `attendMulti`: the first call (session creation included when new) and the median of the repeats. */
  readonly firstMilliseconds: number;
  readonly medianMilliseconds: number;
  /** Bytes fed to the run (what a GPU provider uploads per call). */
  readonly fedBytes: number;
}

/** Shapes of the checked models' layers, small enough for a software WebGPU adapter. */
export const COMPARISON_CASES: readonly ComparisonCase[] = [
  { name: 'SmolLM2 layer 9q/3kv/64, per-head groups, α 5 %, recent 8, decode', queryHeads: 9, config: { layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.05, recentWindow: 8 }, tokens: 96, seed: 11, queryCount: 1 },
  { name: 'SmolLM2 layer, prefill chunk of 4 with a 6.5-token sliding window', queryHeads: 9, config: { layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.05, recentWindow: 8 }, tokens: 80, seed: 12, queryCount: 4, slidingWindow: 6.5 },
  { name: 'GQA 4q/2kv/32, per-token groups (64 elements), α 5 %, recent 4', queryHeads: 4, config: { layers: 1, kvHeads: 2, headDim: 32, groupLayout: 'token-layer', outlierFraction: 0.05, recentWindow: 4 }, tokens: 60, seed: 13, queryCount: 3 },
  { name: 'Gemma 3 layer 4q/1kv/256, α 2 %, recent 16, decode', queryHeads: 4, config: { layers: 1, kvHeads: 1, headDim: 256, outlierFraction: 0.02, recentWindow: 16 }, tokens: 48, seed: 14, queryCount: 1 },
  { name: '2-byte outlier positions: 6q/3kv/128 per-token groups (384 elements), window 9', queryHeads: 6, config: { layers: 1, kvHeads: 3, headDim: 128, groupLayout: 'token-layer', outlierFraction: 0.02 }, tokens: 40, seed: 15, queryCount: 2, slidingWindow: 9 },
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function widthsOf(pools: readonly ({ liveSlots: number } | undefined)[]): number[] {
  const widths: number[] = [];
  pools.forEach((pool, bits) => {
    if (pool !== undefined && pool.liveSlots > 0) widths.push(bits);
  });
  return widths;
}

/**
 * Runs `kernel` (a GraphAttentionKernel on any backend) on a random compact cache and compares the attention output
 * and the max-probability statistic with @qaq/kv-cache's float64 `referenceAttentionMulti` over the same cache.
 * `repeats` extra calls time the kernel once its session exists. Runs in Node and in browsers (no platform APIs
 * besides `performance.now`).
 */
export async function compareWithReference(kernel: GraphAttentionKernel, testCase: ComparisonCase, repeats = 2): Promise<ComparisonResult> {
  const cache = randomCompactCache(testCase.config, testCase.tokens, testCase.seed);
  const { kvHeads, headDim } = cache;
  const { queryCount, queryHeads } = testCase;
  const rowLength = queryHeads * headDim;
  const queries = normalValues(queryCount * rowLength, uniformGenerator(testCase.seed + 1000), 0.7);
  const options = { queryHeads, scoreScale: 1 / Math.sqrt(headDim), ...(testCase.slidingWindow === undefined ? {} : { slidingWindow: testCase.slidingWindow }) };
  const probabilityLength = queryCount * kvHeads * testCase.tokens;
  const expected = new Float32Array(queryCount * rowLength);
  const expectedProbabilities = new Float32Array(probabilityLength);
  referenceAttentionMulti(cache, 0, queries, queryCount, options, expected, expectedProbabilities);
  const actual = new Float32Array(queryCount * rowLength).fill(Number.NaN);
  const actualProbabilities = new Float32Array(probabilityLength).fill(Number.NaN);
  const timings: number[] = [];
  let started = performance.now();
  await kernel.attendMulti(cache, 0, queries, queryCount, options, actual, actualProbabilities);
  const firstMilliseconds = performance.now() - started;
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    started = performance.now();
    await kernel.attendMulti(cache, 0, queries, queryCount, options, actual, actualProbabilities);
    timings.push(performance.now() - started);
  }
  let outputError = 0;
  expected.forEach((value, index) => {
    // NaN (an unwritten or broken output) must fail the comparison, so it is not lost in Math.max.
    const difference = Math.abs(value - (actual[index] as number));
    outputError = Math.max(outputError, Number.isNaN(difference) ? Infinity : difference / Math.max(1, Math.abs(value)));
  });
  let probabilityError = 0;
  let maskedNonZero = 0;
  expectedProbabilities.forEach((value, index) => {
    const other = actualProbabilities[index] as number;
    if (value === 0 && other !== 0) maskedNonZero += 1;
    const difference = Math.abs(value - other);
    probabilityError = Math.max(probabilityError, Number.isNaN(difference) ? Infinity : difference);
  });
  return {
    name: testCase.name,
    tokens: testCase.tokens,
    queryCount,
    outputError,
    probabilityError,
    maskedNonZero,
    keyWidths: widthsOf(cache.store('keys', 0).pools),
    valueWidths: widthsOf(cache.store('values', 0).pools),
    firstMilliseconds,
    medianMilliseconds: timings.length === 0 ? firstMilliseconds : median(timings),
    fedBytes: kernel.lastFedBytes,
  };
}
