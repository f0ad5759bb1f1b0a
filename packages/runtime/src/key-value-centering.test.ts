import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { centeringMeanTokens, KeyValueCenteringState } from './key-value-centering.js';
import { ExactCache } from './exact-cache.test-utils.js';

/** Float64 softmax attention of `rows` query rows ([rows, queryHeads, D]) over `tokens` keys/values ([T, kvHeads, D]). */
function attention(query: Float32Array, keys: Float32Array, values: Float32Array, rows: number, tokens: number, queryHeads: number, kvHeads: number, headDim: number): Float64Array {
  const output = new Float64Array(rows * queryHeads * headDim);
  const group = queryHeads / kvHeads;
  for (let row = 0; row < rows; row++) {
    for (let head = 0; head < queryHeads; head++) {
      const kvHead = Math.floor(head / group);
      const q = (row * queryHeads + head) * headDim;
      const scores = Array.from({ length: tokens }, (_, token) => {
        let sum = 0;
        for (let index = 0; index < headDim; index++) sum += (query[q + index] as number) * (keys[(token * kvHeads + kvHead) * headDim + index] as number);
        return sum / Math.sqrt(headDim);
      });
      const maximum = Math.max(...scores);
      const weights = scores.map((score) => Math.exp(score - maximum));
      const total = weights.reduce((sum, weight) => sum + weight, 0);
      for (let token = 0; token < tokens; token++) {
        for (let index = 0; index < headDim; index++) {
          output[q + index] = (output[q + index] as number) + ((weights[token] as number) / total) * (values[(token * kvHeads + kvHead) * headDim + index] as number);
        }
      }
    }
  }
  return output;
}

const shape = { layers: 2, kvHeads: 2, queryHeads: 4, headDim: 4 };
const tokenLength = shape.kvHeads * shape.headDim;

/** Stores chunks through the centering into `cache` (as CompactCacheAttention does). */
function storeChunks(centering: KeyValueCenteringState, cache: ExactCache, layer: number, keys: Float32Array, values: Float32Array, chunks: readonly number[]): void {
  let start = 0;
  for (const chunk of chunks) {
    const range = [start * tokenLength, (start + chunk) * tokenLength] as const;
    const stored = centering.center(layer, keys.subarray(...range), values.subarray(...range), chunk, cache, 8, 8);
    cache.append(layer, stored.key, stored.value, chunk, 8, 8);
    start += chunk;
  }
}

describe('KeyValueCenteringState', () => {
  it('leaves attention unchanged, whatever the chunking (keys: constant score shift; values: mean added back)', () => {
    const { layers, kvHeads, queryHeads, headDim } = shape;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (chunks, seed) => {
        const tokens = chunks.reduce((sum, chunk) => sum + chunk, 0);
        let state = seed;
        const random = (length: number): Float32Array =>
          Float32Array.from({ length }, () => {
            state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
            return (state / 2 ** 32) * 6 - 3 + (state % 7 === 0 ? 20 : 0);
          });
        const keys = random(tokens * tokenLength);
        const values = random(tokens * tokenLength);
        const query = random(queryHeads * headDim);
        const centering = new KeyValueCenteringState('both', layers, kvHeads, headDim);
        const cache = new ExactCache(tokenLength);
        storeChunks(centering, cache, 1, keys, values, chunks);
        expect(cache.tokenCount(1)).toBe(tokens);
        expect(centering.isCentering(1)).toBe(tokens >= centeringMeanTokens);
        const expected = attention(query, keys, values, 1, tokens, queryHeads, kvHeads, headDim);
        const centered = Float32Array.from(attention(query, Float32Array.from(cache.keys[1] as number[]), Float32Array.from(cache.values[1] as number[]), 1, tokens, queryHeads, kvHeads, headDim));
        centering.restoreOutput(1, centered, 1, queryHeads);
        for (let index = 0; index < expected.length; index++) {
          expect(Math.abs((centered[index] as number) - (expected[index] as number))).toBeLessThan(1e-4 * (1 + Math.abs(expected[index] as number)));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('takes the means once the layer holds 16 tokens, skipping the oldest, and re-stores the earlier tokens once', () => {
    const { layers, kvHeads, headDim } = shape;
    const centering = new KeyValueCenteringState('keys', layers, kvHeads, headDim);
    const cache = new ExactCache(tokenLength);
    // Token t holds t in every element: the mean of tokens 1..15 is 8.
    const keys = Float32Array.from({ length: 20 * tokenLength }, (_, index) => Math.floor(index / tokenLength));
    const values = new Float32Array(keys.length).fill(5);
    storeChunks(centering, cache, 0, keys, values, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(centering.isCentering(0)).toBe(false);
    expect(cache.keys[0]?.[14 * tokenLength]).toBe(14); // stored as they came
    const appendsBefore = cache.appends;
    storeChunks(centering, cache, 0, keys.subarray(15 * tokenLength), values.subarray(15 * tokenLength), [1, 4]);
    expect(centering.isCentering(0)).toBe(true);
    expect(cache.appends - appendsBefore).toBe(3); // the 15 earlier tokens once, then the two new chunks
    const stored = cache.keys[0] as number[];
    for (let token = 0; token < 20; token++) expect(stored[token * tokenLength]).toBe(token - 8);
    expect(cache.values[0]?.[0]).toBe(5); // values not centered
    // Layer 1 is separate; a prefill chunk of 16 is centered as it comes, without re-storing anything.
    const cacheAppends = cache.appends;
    storeChunks(centering, cache, 1, keys, values, [16]);
    expect(cache.appends - cacheAppends).toBe(1);
    expect(cache.keys[1]?.[0]).toBe(-8);
    expect(centering.bytes).toBe(layers * kvHeads * headDim * 4);
    // An emptied layer takes new means.
    cache.evictOldest(1, 16);
    storeChunks(centering, cache, 1, keys.subarray(4 * tokenLength), values.subarray(4 * tokenLength), [16]);
    expect(cache.keys[1]?.[0]).toBe(4 - 12);
  });

  it('is the identity when off', () => {
    const off = new KeyValueCenteringState('none', 2, 2, 4);
    const keys = new Float32Array(160).fill(1);
    const values = new Float32Array(160).fill(2);
    expect(off.active).toBe(false);
    expect(off.bytes).toBe(0);
    const stored = off.center(0, keys, values, 20, new ExactCache(tokenLength), 8, 8);
    expect(stored.key).toBe(keys);
    expect(stored.value).toBe(values);
  });
});
