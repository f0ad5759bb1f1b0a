import { AttentionWorkspace, referenceAttentionMulti } from '@qaq/kv-cache';
import { describe, expect, it } from 'vitest';
import { createAttention } from './create-attention.js';
import { JsAttention } from './js-attention.js';
import { ALL_WIDTHS, normalValues, randomCompactCache, uniformGenerator } from '@qaq/kv-cache/testing';
import { WasmAttention } from './wasm-attention.js';

/** Head dims the SIMD path does not take (not a multiple of 8) and odd group shapes: the JS path alone. */
describe('JS fallback', () => {
  for (const [queryHeads, kvHeads, headDim] of [[3, 1, 5], [4, 2, 12], [6, 3, 20]] as const) {
    for (const groupLayout of ['token-layer-head', 'token-layer'] as const) {
      it(`equals referenceAttentionMulti for ${queryHeads}q/${kvHeads}kv/${headDim}, ${groupLayout}`, () => {
        const config = { layers: 1, kvHeads, headDim, groupLayout, outlierFraction: 0.2, recentWindow: 2, initialCapacityTokens: 2 };
        const cache = randomCompactCache(config, 70, headDim * 31 + kvHeads);
        const queryCount = 6;
        const queries = normalValues(queryCount * queryHeads * headDim, uniformGenerator(headDim), 1);
        const options = { queryHeads, scoreScale: 0.4, slidingWindow: 11.5 };
        const expected = new Float32Array(queryCount * queryHeads * headDim);
        const expectedProbabilities = new Float32Array(queryCount * kvHeads * 70);
        referenceAttentionMulti(cache, 0, queries, queryCount, options, expected, expectedProbabilities, new AttentionWorkspace());
        const output = new Float32Array(expected.length);
        const probabilities = new Float32Array(expectedProbabilities.length);
        new JsAttention().attendMulti(cache, 0, queries, queryCount, options, output, probabilities);
        for (let index = 0; index < expected.length; index += 1) expect(output[index]).toBeCloseTo(expected[index] as number, 6);
        for (let index = 0; index < probabilities.length; index += 1) {
          expect(probabilities[index]).toBeCloseTo(expectedProbabilities[index] as number, 7);
        }
      });
    }
  }

  it('the WASM kernel hands head dims that are not a multiple of 8 to it, with the same results', () => {
    const kernel = WasmAttention.createSync();
    const cache = randomCompactCache({ layers: 1, kvHeads: 1, headDim: 12, outlierFraction: 0.2 }, 40, 5, ALL_WIDTHS, (value) => kernel.createCache(value));
    const queries = normalValues(2 * 12, uniformGenerator(3), 1);
    const viaKernel = new Float32Array(24);
    const viaJs = new Float32Array(24);
    kernel.attendMulti(cache, 0, queries, 1, { queryHeads: 2, scoreScale: 0.3 }, viaKernel, null);
    new JsAttention().attendMulti(cache, 0, queries, 1, { queryHeads: 2, scoreScale: 0.3 }, viaJs, null);
    expect(viaKernel).toEqual(viaJs);
  });

  it('createAttention picks the SIMD kernel here, or the JS one when asked; both read their own caches', async () => {
    for (const preferJs of [false, true]) {
      const attention = await createAttention({ preferJs });
      expect(attention.kind).toBe(preferJs ? 'js' : 'wasm-simd');
      const cache = attention.createCache({ layers: 1, kvHeads: 1, headDim: 16 });
      const data = normalValues(3 * 16, uniformGenerator(8), 1);
      cache.append(0, data, data, 3, 3, 16);
      const output = new Float32Array(16);
      attention.attendMulti(cache, 0, data.subarray(0, 16), 1, { queryHeads: 1, scoreScale: 0.25 }, output, null);
      const expected = new Float32Array(16);
      referenceAttentionMulti(cache, 0, data.subarray(0, 16), 1, { queryHeads: 1, scoreScale: 0.25 }, expected, null);
      for (let index = 0; index < 16; index += 1) expect(output[index]).toBeCloseTo(expected[index] as number, 5);
    }
  });
});
