import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectLargest, selectNucleus } from './selection.js';

const valueArrays = fc
  .array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 60 })
  .map((values) => Float32Array.from(values, (value) => value / 4));

function identity(count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, index) => index);
}

describe('selectLargest', () => {
  it('moves the k largest values (as a multiset) to the front', () => {
    fc.assert(
      fc.property(valueArrays, fc.integer({ min: 1, max: 70 }), (values, keep) => {
        const indices = identity(values.length);
        const kept = selectLargest(indices, values.length, values, keep);
        expect(kept).toBe(Math.min(keep, values.length));
        const chosen = Array.from(indices.subarray(0, kept), (index) => values[index]!).sort((a, b) => b - a);
        const expected = Array.from(values)
          .sort((a, b) => b - a)
          .slice(0, kept);
        expect(chosen).toEqual(expected);
        expect([...indices].sort((a, b) => a - b)).toEqual([...identity(values.length)]); // a permutation
      }),
    );
  });
});

describe('selectNucleus', () => {
  it('returns the smallest top set whose mass reaches the target', () => {
    fc.assert(
      fc.property(valueArrays, fc.double({ min: 0.01, max: 1, noNaN: true }), (values, fraction) => {
        const total = values.reduce((sum, value) => sum + value, 0);
        fc.pre(total > 0);
        const target = fraction * total;
        const indices = identity(values.length);
        const count = selectNucleus(indices, values.length, values, target);
        const sorted = Array.from(values).sort((a, b) => b - a);
        let expectedCount = 0;
        let mass = 0;
        while (expectedCount < sorted.length && mass < target) mass += sorted[expectedCount++]!;
        expect(count).toBe(expectedCount);
        const chosen = Array.from(indices.subarray(0, count), (index) => values[index]!).sort((a, b) => b - a);
        expect(chosen).toEqual(sorted.slice(0, count));
      }),
    );
  });
});
