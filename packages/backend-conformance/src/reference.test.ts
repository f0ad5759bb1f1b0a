import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceAdd, referenceMatMul, referenceSoftmax } from './reference.js';

describe('float64 references', () => {
  it('softmax rows are positive, sum to one and ignore a shift of the logits', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -500, max: 500, noNaN: true }), { minLength: 1, maxLength: 40 }), fc.double({ min: -100, max: 100, noNaN: true }), (logits, shift) => {
        const plain = referenceSoftmax(logits, 1, logits.length);
        const shifted = referenceSoftmax(logits.map((value) => value + shift), 1, logits.length);
        expect(plain.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 12);
        plain.forEach((value, index) => {
          expect(value).toBeGreaterThanOrEqual(0);
          expect(Math.abs(value - (shifted[index] ?? 0))).toBeLessThan(1e-9);
        });
      }),
    );
  });

  it('matmul agrees with a hand-computed product and bounds it by the magnitude', () => {
    const { product, magnitude } = referenceMatMul([1, 2, 3, 4, 5, 6], [1, -1, 0, 2, 3, 0.5], 2, 3, 2);
    expect(Array.from(product)).toEqual([10, 4.5, 22, 9]);
    expect(Array.from(magnitude)).toEqual([10, 6.5, 22, 17]);
  });

  it('add is elementwise', () => {
    expect(Array.from(referenceAdd([1, 2], [0.5, -3]))).toEqual([1.5, -1]);
  });
});
