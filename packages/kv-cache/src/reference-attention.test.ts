import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvCache } from './kv-cache.js';
import { fp16Values, naiveAttention } from './random.test-utils.js';
import { AttentionWorkspace, referenceAttention, referenceAttentionMulti } from './reference-attention.js';

describe('reference attention', () => {
  it('over an all-16-bit cache equals plain attention on the same fp16-exact inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom([1, 1], [1, 3], [3, 9], [2, 4]),
        fc.constantFrom<'token-layer-head' | 'token-layer'>('token-layer-head', 'token-layer'),
        fc.integer({ min: 1, max: 1 << 20 }),
        (tokenCount, [kvHeads, queryHeads], groupLayout, seed) => {
          const headDim = 16;
          const cache = new KvCache({ layers: 1, kvHeads: kvHeads as number, headDim, groupLayout, outlierFraction: 0.1 });
          const keys = fp16Values(tokenCount * (kvHeads as number) * headDim, seed);
          const values = fp16Values(tokenCount * (kvHeads as number) * headDim, seed + 1);
          cache.append(0, keys, values, tokenCount, 16, 16);
          const query = fp16Values((queryHeads as number) * headDim, seed + 2, 1);
          const scale = 1 / Math.sqrt(headDim);
          const output = new Float32Array((queryHeads as number) * headDim);
          const maxProbabilities = new Float32Array((kvHeads as number) * tokenCount);
          referenceAttention(cache, 0, query, { queryHeads: queryHeads as number, scoreScale: scale }, output, maxProbabilities);
          const expected = naiveAttention(keys, values, tokenCount, kvHeads as number, headDim, query, queryHeads as number, scale);
          for (let index = 0; index < output.length; index += 1) {
            expect(Math.abs((output[index] as number) - (expected.output[index] as number))).toBeLessThanOrEqual(
              1e-6 * (1 + Math.abs(expected.output[index] as number)),
            );
          }
          const groupSize = (queryHeads as number) / (kvHeads as number);
          for (let kvHead = 0; kvHead < (kvHeads as number); kvHead += 1) {
            for (let token = 0; token < tokenCount; token += 1) {
              let maximum = 0;
              for (let head = kvHead * groupSize; head < (kvHead + 1) * groupSize; head += 1) {
                maximum = Math.max(maximum, expected.probabilities[head * tokenCount + token] as number);
              }
              expect(maxProbabilities[kvHead * tokenCount + token]).toBeCloseTo(maximum, 6);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('multi-query prefill with a causal mask equals one step per prefix', () => {
    const kvHeads = 1;
    const queryHeads = 2;
    const headDim = 8;
    const tokenCount = 6;
    const keys = fp16Values(tokenCount * headDim, 21);
    const values = fp16Values(tokenCount * headDim, 22);
    const queries = fp16Values(tokenCount * queryHeads * headDim, 23, 1);
    const full = new KvCache({ layers: 1, kvHeads, headDim });
    full.append(0, keys, values, tokenCount, 4, 4);
    const output = new Float32Array(queries.length);
    const probabilities = new Float32Array(tokenCount * kvHeads * tokenCount);
    const workspace = new AttentionWorkspace();
    referenceAttentionMulti(full, 0, queries, tokenCount, { queryHeads, scoreScale: 0.3 }, output, probabilities, workspace);
    const prefix = new KvCache({ layers: 1, kvHeads, headDim });
    const stepOutput = new Float32Array(queryHeads * headDim);
    for (let position = 0; position < tokenCount; position += 1) {
      prefix.append(0, keys.subarray(position * headDim, (position + 1) * headDim), values.subarray(position * headDim, (position + 1) * headDim), 1, 4, 4);
      const stepProbabilities = new Float32Array(position + 1);
      const row = queries.subarray(position * queryHeads * headDim, (position + 1) * queryHeads * headDim);
      referenceAttention(prefix, 0, row, { queryHeads, scoreScale: 0.3 }, stepOutput, stepProbabilities, workspace);
      expect(Array.from(output.subarray(position * queryHeads * headDim, (position + 1) * queryHeads * headDim))).toEqual(Array.from(stepOutput));
      expect(Array.from(probabilities.subarray(position * tokenCount, position * tokenCount + position + 1))).toEqual(Array.from(stepProbabilities));
      expect(probabilities.subarray(position * tokenCount + position + 1, (position + 1) * tokenCount).every((p) => p === 0)).toBe(true);
    }
    // A sliding window of 2 leaves each query two tokens.
    referenceAttentionMulti(full, 0, queries, tokenCount, { queryHeads, scoreScale: 0.3, slidingWindow: 2 }, output, probabilities);
    const lastRow = probabilities.subarray(5 * tokenCount, 6 * tokenCount);
    expect(Array.from(lastRow.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect((lastRow[4] as number) + 0).toBeGreaterThan(0);
  });

  it('rejects bad shapes and NaN queries', () => {
    const cache = new KvCache({ layers: 1, kvHeads: 2, headDim: 4 });
    cache.append(0, fp16Values(8, 1), fp16Values(8, 2), 1, 8, 8);
    const attempt = (queries: Float32Array, queryHeads: number, out = new Float32Array(16)): void => {
      try {
        referenceAttention(cache, 0, queries, { queryHeads, scoreScale: 0.5 }, out, null);
        expect.unreachable('should throw');
      } catch (error) {
        expect(isQaqError(error)).toBe(true);
      }
    };
    attempt(new Float32Array(12), 3);
    attempt(new Float32Array(15), 4);
    attempt(new Float32Array(16), 4, new Float32Array(8));
    attempt(Float32Array.from({ length: 16 }, (_, index) => (index === 3 ? Number.NaN : 1)), 4);
  });
});
