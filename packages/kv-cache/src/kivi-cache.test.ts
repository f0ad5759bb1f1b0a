import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KiviCache } from './kivi-cache.js';
import { fp16Values, naiveAttention } from './random.test-utils.js';
import { referenceAttention } from './reference-attention.js';

function range(values: Float32Array, start: number, count: number, stride: number): number {
  let low = Infinity;
  let high = -Infinity;
  for (let index = 0; index < count; index += 1) {
    const value = values[start + index * stride] as number;
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  return high - low;
}

describe('KiviCache', () => {
  it('quantizes keys per channel in blocks, values per token, keeps the residual exact; accounting = held bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 6 }),
        (keyBits, valueBits, blockTokens, residualTokens, appends) => {
          const kvHeads = 2;
          const headDim = 8;
          const tokenLength = kvHeads * headDim;
          const cache = new KiviCache({ layers: 1, kvHeads, headDim, keyBits, valueBits, blockTokens, residualTokens, initialCapacityTokens: 1 });
          const total = appends.reduce((a, b) => a + b, 0);
          const keys = fp16Values(total * tokenLength, keyBits * 100 + total);
          const values = fp16Values(total * tokenLength, valueBits * 100 + total + 1);
          let offset = 0;
          for (const count of appends) {
            cache.append(0, keys.subarray(offset * tokenLength, (offset + count) * tokenLength), values.subarray(offset * tokenLength, (offset + count) * tokenLength), count);
            offset += count;
            expect(cache.accounting().totalBytes).toBe(cache.heldBytes());
          }
          expect(cache.tokenCount(0)).toBe(total);
          const blocks = Math.max(0, Math.floor((total - residualTokens) / blockTokens));
          const quantizedTokens = blocks * blockTokens;
          const keysOut = new Float32Array(total * tokenLength);
          const valuesOut = new Float32Array(total * tokenLength);
          cache.readLayer(0, keysOut, valuesOut);
          for (let token = 0; token < total; token += 1) {
            for (let channel = 0; channel < tokenLength; channel += 1) {
              const index = token * tokenLength + channel;
              if (token >= quantizedTokens) {
                expect(keysOut[index]).toBe(keys[index]);
                expect(valuesOut[index]).toBe(values[index]);
                continue;
              }
              const block = Math.floor(token / blockTokens);
              const keyRange = range(keys, block * blockTokens * tokenLength + channel, blockTokens, tokenLength);
              const head = Math.floor(channel / headDim);
              const valueRange = range(values, token * tokenLength + head * headDim, headDim, 1);
              // Step ≤ range/2^B rounded up to fp16 (relative 2^-10) plus the fp16 minimum's rounding.
              expect(Math.abs((keysOut[index] as number) - (keys[index] as number))).toBeLessThanOrEqual((keyRange / 2 ** (keyBits + 1)) * 1.002 + 1e-3);
              expect(Math.abs((valuesOut[index] as number) - (values[index] as number))).toBeLessThanOrEqual((valueRange / 2 ** (valueBits + 1)) * 1.002 + 1e-3);
            }
          }
          const accounting = cache.accounting();
          expect(accounting.recentWindowBytes).toBe((total - quantizedTokens) * tokenLength * 4);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('drops the oldest quantized blocks: the rest reads back unchanged, the bytes shrink, the residual stays', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(),
        (blockTokens, residualTokens, total, dropSeed) => {
          const kvHeads = 2;
          const headDim = 8;
          const tokenLength = kvHeads * headDim;
          const cache = new KiviCache({ layers: 2, kvHeads, headDim, keyBits: 3, valueBits: 2, blockTokens, residualTokens, initialCapacityTokens: 1 });
          const keys = fp16Values(total * tokenLength, total);
          const values = fp16Values(total * tokenLength, total + 7);
          cache.append(1, keys, values, total);
          const before = { keys: new Float32Array(total * tokenLength), values: new Float32Array(total * tokenLength) };
          cache.readLayer(1, before.keys, before.values);
          const bytesBefore = cache.accounting();
          const drop = dropSeed % (cache.blockCount(1) + 1);
          cache.dropOldestBlocks(1, drop);
          const remaining = total - drop * blockTokens;
          expect(cache.tokenCount(1)).toBe(remaining);
          const after = { keys: new Float32Array(remaining * tokenLength), values: new Float32Array(remaining * tokenLength) };
          cache.readLayer(1, after.keys, after.values);
          expect(after.keys).toEqual(before.keys.subarray(drop * blockTokens * tokenLength));
          expect(after.values).toEqual(before.values.subarray(drop * blockTokens * tokenLength));
          const accounting = cache.accounting();
          expect(accounting.totalBytes).toBe(cache.heldBytes());
          expect(accounting.recentWindowBytes).toBe(bytesBefore.recentWindowBytes);
          if (drop > 0) expect(accounting.codeBytes).toBeLessThan(bytesBefore.codeBytes);
          expect(accounting.liveElements).toBe(2 * remaining * tokenLength);
          // Appending after a drop quantizes the next block in place as usual.
          cache.append(1, fp16Values(blockTokens * tokenLength, 3), fp16Values(blockTokens * tokenLength, 4), blockTokens);
          expect(cache.tokenCount(1)).toBe(remaining + blockTokens);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses to drop more blocks than it holds, losing nothing', () => {
    const cache = new KiviCache({ layers: 1, kvHeads: 1, headDim: 8, keyBits: 2, valueBits: 2, blockTokens: 4, residualTokens: 4 });
    cache.append(0, fp16Values(12 * 8, 1), fp16Values(12 * 8, 2), 12);
    expect(cache.blockCount(0)).toBe(2);
    for (const blocks of [3, -1, 0.5]) {
      try {
        cache.dropOldestBlocks(0, blocks);
        expect.unreachable();
      } catch (error) {
        expect(isQaqError(error, 'invalid-argument')).toBe(true);
      }
    }
    expect(cache.tokenCount(0)).toBe(12);
  });

  it('serves reference attention; with everything in the residual it is exact', () => {
    const cache = new KiviCache({ layers: 1, kvHeads: 1, headDim: 8, keyBits: 2, valueBits: 2, blockTokens: 4, residualTokens: 16 });
    const keys = fp16Values(10 * 8, 5);
    const values = fp16Values(10 * 8, 6);
    cache.append(0, keys, values, 10);
    const query = fp16Values(16, 7, 1);
    const output = new Float32Array(16);
    referenceAttention(cache, 0, query, { queryHeads: 2, scoreScale: 0.35 }, output, null);
    const expected = naiveAttention(keys, values, 10, 1, 8, query, 2, 0.35);
    output.forEach((value, index) => expect(value).toBeCloseTo(expected.output[index] as number, 5));
  });

  it('rejects bad configs and input', () => {
    const bad = [
      { layers: 1, kvHeads: 1, headDim: 8, keyBits: 0, valueBits: 2 },
      { layers: 1, kvHeads: 1, headDim: 8, keyBits: 2, valueBits: 16 },
      { layers: 1, kvHeads: 1, headDim: 8, keyBits: 2, valueBits: 2, blockTokens: 0 },
    ];
    for (const config of bad) expect(() => new KiviCache(config)).toThrow();
    const cache = new KiviCache({ layers: 1, kvHeads: 1, headDim: 2, keyBits: 2, valueBits: 2 });
    try {
      cache.append(0, new Float32Array([1, Number.POSITIVE_INFINITY]), new Float32Array(2), 1);
      expect.unreachable();
    } catch (error) {
      expect(isQaqError(error, 'non-finite-input')).toBe(true);
    }
    expect(cache.tokenCount(0)).toBe(0);
  });
});
