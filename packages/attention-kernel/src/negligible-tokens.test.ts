import { AttentionWorkspace, referenceAttentionMulti, type KvCache } from '@qaq/kv-cache';
import { normalValues, randomCompactCache, uniformGenerator } from '@qaq/kv-cache/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { SHAPES, type Shape } from './attention-shapes.test-utils.js';
import { smallChunkThreadedKernel } from './decode-step.test-utils.js';
import { JsAttention } from './js-attention.js';
import { WasmAttention } from './wasm-attention.js';
import { simdSupported } from './webassembly-runtime.js';

/** A decode step over `cache` in float64 from its dequantized contents: probabilities [queryHeads, T] and values. */
function exactDecode(cache: KvCache, queries: Float32Array, shape: Shape, scoreScale: number) {
  const tokenCount = cache.tokenCount(0);
  const tokenLength = shape.kvHeads * shape.headDim;
  const keys = new Float32Array(tokenCount * tokenLength);
  const values = new Float32Array(tokenCount * tokenLength);
  cache.readLayer(0, keys, values);
  const headsPerKv = shape.queryHeads / shape.kvHeads;
  const probabilities = new Float64Array(shape.queryHeads * tokenCount);
  for (let head = 0; head < shape.queryHeads; head += 1) {
    const kvHead = Math.floor(head / headsPerKv);
    let maximum = Number.NEGATIVE_INFINITY;
    for (let token = 0; token < tokenCount; token += 1) {
      let dot = 0;
      for (let element = 0; element < shape.headDim; element += 1) {
        dot += (queries[head * shape.headDim + element] as number) * (keys[token * tokenLength + kvHead * shape.headDim + element] as number);
      }
      probabilities[head * tokenCount + token] = dot * scoreScale;
      maximum = Math.max(maximum, dot * scoreScale);
    }
    let sum = 0;
    for (let token = 0; token < tokenCount; token += 1) {
      const weight = Math.exp((probabilities[head * tokenCount + token] as number) - maximum);
      probabilities[head * tokenCount + token] = weight;
      sum += weight;
    }
    for (let token = 0; token < tokenCount; token += 1) probabilities[head * tokenCount + token] = (probabilities[head * tokenCount + token] as number) / sum;
  }
  return { probabilities, values, tokenCount, tokenLength, headsPerKv };
}

/**
 * τ between two consecutive per-token maxima (over the query heads of a KV head) near the `quantile`-th, where
 * they differ by ≥ 1 %, so float32 and float64 agree on which tokens fall below it.
 */
function thresholdInGap(maxima: number[], quantile: number): number {
  const sorted = [...maxima].sort((a, b) => a - b);
  for (let index = Math.floor(quantile * sorted.length); index + 1 < sorted.length; index += 1) {
    const low = sorted[index] as number;
    const high = sorted[index + 1] as number;
    if (high > low * 1.01 && low > 0) return Math.sqrt(low * high);
  }
  throw new Error('no gap');
}

describe.runIf(simdSupported())('negligibleProbability: the value pass skips tokens below τ for every head of their KV head', () => {
  const single = WasmAttention.createSync();
  const js = new JsAttention();
  // Small chunks, so a 1,500-token cache is split into many (scores, the step's normalisers, then values).
  const threaded = smallChunkThreadedKernel();
  afterAll(async () => (await threaded)?.dispose());

  // Per-head groups with outliers, and the presets' layout: groups spanning every KV head, no outliers (its own
  // seed: the check that the skip is visible needs data whose skipped tokens carry attention above rounding).
  const layouts = [
    { name: 'groups per KV head, outliers', groupLayout: 'token-layer-head', outlierFraction: 0.02, seedOffset: 0 },
    { name: 'groups per token and layer, no outliers', groupLayout: 'token-layer', outlierFraction: 0, seedOffset: 3 },
  ] as const;
  for (const shape of SHAPES) for (const layout of layouts) {
    it(`${shape.name}, ${layout.name}: equals Σ over the kept tokens, in one thread or split into chunks`, async () => {
      const { groupLayout, outlierFraction } = layout;
      const config = { layers: 1, kvHeads: shape.kvHeads, headDim: shape.headDim, groupLayout, outlierFraction, recentWindow: 8 };
      const tokenCount = 1500;
      const seed = 7 * shape.headDim + shape.queryHeads + layout.seedOffset;
      // Unit-variance queries: the skipped half of the tokens carries a visible share of the attention.
      const queries = normalValues(shape.queryHeads * shape.headDim, uniformGenerator(seed ^ 0x9e3779b9), 1);
      const scoreScale = 1 / Math.sqrt(shape.headDim);
      const singleCache = randomCompactCache(config, tokenCount, seed, undefined, (resolved) => single.createCache(resolved));
      const exact = exactDecode(singleCache, queries, shape, scoreScale);
      const maxima: number[] = [];
      for (let kvHead = 0; kvHead < shape.kvHeads; kvHead += 1) {
        for (let token = 0; token < tokenCount; token += 1) {
          let maximum = 0;
          for (let head = kvHead * exact.headsPerKv; head < (kvHead + 1) * exact.headsPerKv; head += 1) {
            maximum = Math.max(maximum, exact.probabilities[head * tokenCount + token] as number);
          }
          maxima.push(maximum);
        }
      }
      const negligibleProbability = thresholdInGap(maxima, 0.5);
      // The expected output: Σ p·v over the tokens some head of the KV head gives ≥ τ.
      const outputLength = shape.queryHeads * shape.headDim;
      const sparse = new Float64Array(outputLength);
      const full = new Float64Array(outputLength);
      let skipped = 0;
      for (let head = 0; head < shape.queryHeads; head += 1) {
        const kvHead = Math.floor(head / exact.headsPerKv);
        for (let token = 0; token < tokenCount; token += 1) {
          const kept = (maxima[kvHead * tokenCount + token] as number) >= negligibleProbability;
          if (!kept && head % exact.headsPerKv === 0) skipped += 1;
          const probability = exact.probabilities[head * tokenCount + token] as number;
          for (let element = 0; element < shape.headDim; element += 1) {
            const value = exact.values[token * exact.tokenLength + kvHead * shape.headDim + element] as number;
            const at = head * shape.headDim + element;
            full[at] = (full[at] as number) + probability * value;
            if (kept) sparse[at] = (sparse[at] as number) + probability * value;
          }
        }
      }
      expect(skipped).toBeGreaterThan(0.4 * shape.kvHeads * tokenCount);
      const scale = Math.max(1, ...Array.from(full, Math.abs));
      const largest = (a: Float32Array, b: Float64Array): number => Math.max(...Array.from(a, (x, index) => Math.abs(x - (b[index] as number))));
      // The skip must be visible (else this test could not tell a kernel that ignores τ).
      expect(largest(Float32Array.from(full), sparse) / scale).toBeGreaterThan(1e-5);
      const options = { queryHeads: shape.queryHeads, scoreScale, negligibleProbability };
      const run = (attend: (output: Float32Array) => void): Float32Array => {
        const output = new Float32Array(outputLength).fill(Number.NaN);
        attend(output);
        return output;
      };
      const wasm = run((output) => single.attendMulti(singleCache, 0, queries, 1, options, output, null));
      const javascript = run((output) => js.attendMulti(singleCache, 0, queries, 1, options, output, null));
      expect(largest(wasm, sparse) / scale, 'wasm').toBeLessThan(2e-6);
      expect(largest(javascript, sparse) / scale, 'js').toBeLessThan(1e-7);
      // The statistics still come from every token: τ only shortens the value pass.
      const probabilities = new Float32Array(shape.kvHeads * tokenCount);
      const reference = new Float32Array(shape.kvHeads * tokenCount);
      single.attendMulti(singleCache, 0, queries, 1, options, new Float32Array(outputLength), probabilities);
      referenceAttentionMulti(singleCache, 0, queries, 1, options, new Float32Array(outputLength), reference, new AttentionWorkspace());
      expect(largest(probabilities, Float64Array.from(reference))).toBeLessThan(2e-6);
      singleCache.dispose();
      const kernel = await threaded;
      if (kernel === null) return;
      const threadedCache = randomCompactCache(config, tokenCount, seed, undefined, (resolved) => kernel.createCache(resolved));
      const split = run((output) => kernel.attendMulti(threadedCache, 0, queries, 1, options, output, null));
      // Split into chunks, the step still judges each token by the call's probabilities (scores, normalisers, values).
      expect(largest(split, sparse) / scale, 'split').toBeLessThan(2e-6);
      threadedCache.dispose();
    });
  }

  it('prefill chunks (more than 8 rows) and τ = 0 read every token, bitwise as without the option', () => {
    const shape = SHAPES[0] as Shape;
    const cache = randomCompactCache({ layers: 1, kvHeads: 3, headDim: 64, outlierFraction: 0.02 }, 300, 5, undefined, (resolved) => single.createCache(resolved));
    for (const queryCount of [1, 12]) {
      const queries = normalValues(queryCount * shape.queryHeads * shape.headDim, uniformGenerator(6), 3);
      const base = { queryHeads: shape.queryHeads, scoreScale: 1 / 8 };
      const plain = new Float32Array(queryCount * shape.queryHeads * shape.headDim);
      single.attendMulti(cache, 0, queries, queryCount, base, plain, null);
      const zero = new Float32Array(plain.length);
      single.attendMulti(cache, 0, queries, queryCount, { ...base, negligibleProbability: 0 }, zero, null);
      expect(zero).toEqual(plain);
      if (queryCount > 1) {
        // 12 positions × 3 heads per KV head = 36 rows: a prefill chunk, where τ does not apply.
        const skipping = new Float32Array(plain.length);
        single.attendMulti(cache, 0, queries, queryCount, { ...base, negligibleProbability: 1e-3 }, skipping, null);
        expect(skipping).toEqual(plain);
      }
    }
    cache.dispose();
  });

  it('refuses τ outside [0, 1)', () => {
    const cache = single.createCache({ layers: 1, kvHeads: 1, headDim: 8 });
    cache.append(0, new Float32Array(8), new Float32Array(8), 1, 8, 8);
    for (const negligibleProbability of [-1e-6, 1, Number.NaN]) {
      expect(() => single.attendMulti(cache, 0, new Float32Array(8), 1, { queryHeads: 1, scoreScale: 1, negligibleProbability }, new Float32Array(8), null)).toThrow(
        /negligibleProbability/,
      );
    }
    cache.dispose();
  });
});
