import { AttentionWorkspace, referenceAttentionMulti, type KvCache } from '@qaq/kv-cache';
import { randomCompactCache, uniformGenerator } from '@qaq/kv-cache/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { largestDifference, largestMagnitude } from './array-differences.test-utils.js';
import { SHAPES, type Shape } from './attention-shapes.test-utils.js';
import { decodeStep, smallChunkThreadedKernel, type DecodeResult } from './decode-step.test-utils.js';
import { WasmAttention } from './wasm-attention.js';
import { simdSupported } from './webassembly-runtime.js';

function decode(kernel: Pick<WasmAttention, 'attendMulti'>, cache: KvCache, queries: Float32Array, shape: Shape, fastScores: boolean, negligibleProbability = 0): DecodeResult {
  return decodeStep(kernel, cache, queries, shape, { fastScores, negligibleProbability });
}

/** Standard normal queries (no spikes: the rounding bound scales with max|q|). */
function plainNormals(count: number, uniform: () => number): Float32Array {
  return Float32Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}

/**
 * The documented bound, per token: rounding each query element to 16 bits of its row's max|q| moves a score by at
 * most scoreScale · (max|q| / 32766) · Σ_i codes_i·step, and codes_i·step ≤ k̂_i − min k̂ over the token (its group's
 * minimum reconstruction is m + step/2 or more). A softmax whose scores move by ≤ Δ changes each probability by a
 * factor within e^{±2Δ}, so the output by ≤ (e^{2Δ} − 1)·max|v|.
 */
function scoreBound(keys: Float32Array, queries: Float32Array, shape: Shape, tokenCount: number): number {
  const tokenLength = shape.kvHeads * shape.headDim;
  const headsPerKv = shape.queryHeads / shape.kvHeads;
  let bound = 0;
  for (let token = 0; token < tokenCount; token += 1) {
    const key = keys.subarray(token * tokenLength, (token + 1) * tokenLength);
    let minimum = Infinity;
    for (const value of key) minimum = Math.min(minimum, value);
    for (let head = 0; head < shape.queryHeads; head += 1) {
      const kvHead = Math.floor(head / headsPerKv);
      let sum = 0;
      for (let element = 0; element < shape.headDim; element += 1) sum += (key[kvHead * shape.headDim + element] as number) - minimum;
      const query = queries.subarray(head * shape.headDim, (head + 1) * shape.headDim);
      bound = Math.max(bound, (largestMagnitude(query) / 32766) * sum);
    }
  }
  return (bound / Math.sqrt(shape.headDim)) * 1.001;
}

describe.runIf(simdSupported())('fastScores: quantized keys scored against 16-bit queries', () => {
  const single = WasmAttention.createSync();
  const threaded = smallChunkThreadedKernel();
  afterAll(async () => (await threaded)?.dispose());

  const layouts = ['token-layer', 'token-layer-head'] as const;
  for (const shape of SHAPES) for (const groupLayout of layouts) {
    it(`${shape.name}, ${groupLayout}: within the rounding bound of the exact kernel and the reference, not equal to them`, async () => {
      const config = { layers: 1, kvHeads: shape.kvHeads, headDim: shape.headDim, groupLayout, outlierFraction: 0, recentWindow: 6 };
      const tokenCount = 900;
      const seed = 11 * shape.headDim + shape.queryHeads + (groupLayout === 'token-layer' ? 1 : 0);
      const queries = plainNormals(shape.queryHeads * shape.headDim, uniformGenerator(seed ^ 0x5bd1e995));
      const cache = randomCompactCache(config, tokenCount, seed, undefined, (resolved) => single.createCache(resolved));
      const exact = decode(single, cache, queries, shape, false);
      const fast = decode(single, cache, queries, shape, true);
      const reference = { output: new Float32Array(exact.output.length), probabilities: new Float32Array(exact.probabilities.length) };
      referenceAttentionMulti(cache, 0, queries, 1, { queryHeads: shape.queryHeads, scoreScale: 1 / Math.sqrt(shape.headDim) }, reference.output, reference.probabilities, new AttentionWorkspace());
      const tokenLength = shape.kvHeads * shape.headDim;
      const keys = new Float32Array(tokenCount * tokenLength);
      const values = new Float32Array(keys.length);
      cache.readLayer(0, keys, values);
      const factor = Math.expm1(2 * scoreBound(keys, queries, shape, tokenCount));
      // The caches' 1 % of ×8 spikes make the worst case loose (measured differences are far below it).
      expect(factor).toBeLessThan(0.2);
      for (const against of [exact, reference]) {
        // Probabilities ≤ 1 and the reference within 2e-6 of the exact kernel: the bound plus that.
        expect(largestDifference(fast.probabilities, against.probabilities)).toBeLessThanOrEqual(factor + 2e-6);
        expect(largestDifference(fast.output, against.output)).toBeLessThanOrEqual(factor * largestMagnitude(values) + 2e-6);
      }
      // Not a no-op: the rounding shows (a kernel ignoring the option would give the exact result bit for bit).
      expect(largestDifference(fast.probabilities, exact.probabilities)).toBeGreaterThan(0);
      const kernel = await threaded;
      if (kernel !== null) {
        const threadedCache = randomCompactCache(config, tokenCount, seed, undefined, (resolved) => kernel.createCache(resolved));
        const split = decode(kernel, threadedCache, queries, shape, true);
        // Split into chunks, the same arithmetic per token: equal to one thread up to the order of the sums.
        expect(largestDifference(split.probabilities, fast.probabilities)).toBeLessThanOrEqual(2e-6);
        expect(largestDifference(split.output, fast.output) / Math.max(1, largestMagnitude(fast.output))).toBeLessThanOrEqual(2e-6);
        // With negligible tokens skipped as well (the lean preset's pair).
        const skipping = decode(kernel, threadedCache, queries, shape, true, 1e-5);
        expect(largestDifference(skipping.output, fast.output)).toBeLessThan(1e-5 * tokenCount * largestMagnitude(values));
        threadedCache.dispose();
      }
      cache.dispose();
    });
  }
});
