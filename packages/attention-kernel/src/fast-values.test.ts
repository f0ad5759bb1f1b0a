import { referenceAttentionMulti, AttentionWorkspace, type KvCache } from '@qaq/kv-cache';
import { randomCompactCache, uniformGenerator } from '@qaq/kv-cache/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { largestDifference, largestMagnitude } from './array-differences.test-utils.js';
import { SHAPES, type Shape } from './attention-shapes.test-utils.js';
import { decodeStep as decode, smallChunkThreadedKernel } from './decode-step.test-utils.js';
import { WasmAttention } from './wasm-attention.js';
import { simdSupported } from './webassembly-runtime.js';

/**
 * The documented bound: a row's output moves by at most Σ_t (W_block(t) / 65534)·codes_t, W a block's largest weight
 * p·step (blocks of 64 kept tokens; without skipping, consecutive tokens). W_block(t) ≤ the largest p·step within 63
 * tokens of t whatever the blocks' (or a split's chunks') boundaries, p_t ≤ the largest probability any row of the KV
 * head gives it, and codes_t ≤ 2^B_t − 1 (step = range / 2^B); fp16 groups are exact. Groups span every KV head.
 */
function valueBound(cache: KvCache, probabilities: Float32Array, shape: Shape): number {
  const store = cache.store('values', 0);
  const tokenCount = cache.tokenCount(0);
  let bound = 0;
  for (let head = 0; head < shape.kvHeads; head += 1) {
    const weights = new Float64Array(tokenCount);
    for (let token = 0; token < tokenCount; token += 1) {
      const bits = store.bitsOf(token);
      weights[token] = bits === 16 ? 0 : (probabilities[head * tokenCount + token] as number) * (store.range(token) / 2 ** bits);
    }
    let sum = 0;
    for (let token = 0; token < tokenCount; token += 1) {
      const bits = store.bitsOf(token);
      if (bits === 16) continue;
      let largest = 0;
      for (let other = Math.max(0, token - 63); other <= Math.min(tokenCount - 1, token + 63); other += 1) largest = Math.max(largest, weights[other] as number);
      sum += (largest / 65534) * (2 ** bits - 1);
    }
    bound = Math.max(bound, sum);
  }
  return bound * 1.001;
}

describe.runIf(simdSupported())('fastValues: a decode step\'s values summed in integers', () => {
  const single = WasmAttention.createSync();
  const threaded = smallChunkThreadedKernel();
  afterAll(async () => (await threaded)?.dispose());

  const layouts = ['token-layer', 'token-layer-head'] as const;
  for (const shape of SHAPES) for (const groupLayout of layouts) {
    const rows = shape.queryHeads / shape.kvHeads;
    // The integer pass serves one query position with 3 or 4 rows per KV head over groups spanning every KV head.
    const applies = (rows === 3 || rows === 4) && (groupLayout === 'token-layer' || shape.kvHeads === 1);
    it(`${shape.name}, ${groupLayout}: ${applies ? 'within the rounding bound of the exact kernel and the reference' : 'exact (the path does not apply)'}`, async () => {
      const config = { layers: 1, kvHeads: shape.kvHeads, headDim: shape.headDim, groupLayout, outlierFraction: 0, recentWindow: 6 };
      const tokenCount = 900;
      const seed = 13 * shape.headDim + shape.queryHeads + (groupLayout === 'token-layer' ? 1 : 0);
      const uniform = uniformGenerator(seed ^ 0x2545f491);
      const queries = Float32Array.from({ length: shape.queryHeads * shape.headDim }, () => 2 * uniform() - 1);
      const cache = randomCompactCache(config, tokenCount, seed, undefined, (resolved) => single.createCache(resolved));
      const exact = decode(single, cache, queries, shape, { fastValues: false });
      const fast = decode(single, cache, queries, shape, { fastValues: true });
      // Scores and probabilities are untouched.
      expect(fast.probabilities).toEqual(exact.probabilities);
      if (!applies) {
        expect(fast.output).toEqual(exact.output);
        cache.dispose();
        return;
      }
      const reference = { output: new Float32Array(exact.output.length), probabilities: new Float32Array(exact.probabilities.length) };
      referenceAttentionMulti(cache, 0, queries, 1, { queryHeads: shape.queryHeads, scoreScale: 1 / Math.sqrt(shape.headDim) }, reference.output, reference.probabilities, new AttentionWorkspace());
      const bound = valueBound(cache, exact.probabilities, shape);
      const values = new Float32Array(tokenCount * shape.kvHeads * shape.headDim);
      cache.readLayer(0, new Float32Array(values.length), values);
      // The reference is within 2e-6 of the exact kernel: the bound plus that.
      for (const against of [exact, reference]) expect(largestDifference(fast.output, against.output)).toBeLessThanOrEqual(bound + 2e-6);
      // The bound is loose (every code at its largest, every weight off by its most); what these caches show is far
      // below it, and a misplaced code or weight would be of the order of the values themselves.
      expect(largestDifference(fast.output, exact.output)).toBeLessThan(0.002 * largestMagnitude(values));
      // Not a no-op: the rounding shows (a kernel ignoring the option would give the exact result bit for bit).
      expect(largestDifference(fast.output, exact.output)).toBeGreaterThan(0);
      // With fast scores as well: both options together stay near the exact kernel.
      const both = decode(single, cache, queries, shape, { fastValues: true, fastScores: true });
      expect(largestDifference(both.output, exact.output)).toBeLessThan(0.05 * largestMagnitude(values));
      const kernel = await threaded;
      if (kernel !== null) {
        const threadedCache = randomCompactCache(config, tokenCount, seed, undefined, (resolved) => kernel.createCache(resolved));
        // Split into chunks, each chunk's blocks round against their own largest weight: within the same bound.
        const split = decode(kernel, threadedCache, queries, shape, { fastValues: true });
        expect(largestDifference(split.probabilities, exact.probabilities)).toBeLessThanOrEqual(2e-6);
        expect(largestDifference(split.output, exact.output)).toBeLessThanOrEqual(bound + 2e-6);
        expect(largestDifference(split.output, exact.output)).toBeGreaterThan(0);
        // With negligible tokens skipped as well (the lean preset's trio).
        const skipping = decode(kernel, threadedCache, queries, shape, { fastValues: true, fastScores: true, negligibleProbability: 1e-5 });
        expect(largestDifference(skipping.output, both.output)).toBeLessThan(1e-5 * tokenCount * largestMagnitude(values) + 2 * bound);
        threadedCache.dispose();
      }
      cache.dispose();
    });
  }
});
