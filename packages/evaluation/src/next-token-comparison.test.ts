import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareNextToken, referenceDistribution } from './next-token-comparison.js';

const vocabulary = 16;
const logits = fc.array(fc.float({ min: -20, max: 20, noNaN: true, noDefaultInfinity: true }), { minLength: vocabulary, maxLength: vocabulary });
const target = fc.integer({ min: 0, max: vocabulary - 1 });

describe('compareNextToken', () => {
  it('is exactly 0 KL, agreeing top-1 and equal likelihoods for identical logits', () => {
    fc.assert(
      fc.property(logits, target, (values, token) => {
        const result = compareNextToken(referenceDistribution(values), Float32Array.from(values), token, new Float64Array(vocabulary));
        expect(result.klDivergence).toBe(0);
        expect(result.topOneAgrees).toBe(true);
        expect(result.methodNegativeLogLikelihood).toBe(result.referenceNegativeLogLikelihood);
      }),
    );
  });

  it('is non-negative, and invariant to shifting either side by a constant', () => {
    fc.assert(
      fc.property(logits, logits, target, fc.float({ min: -30, max: 30, noNaN: true }), (p, q, token, shift) => {
        const scratch = new Float64Array(vocabulary);
        const plain = compareNextToken(referenceDistribution(p), q, token, scratch);
        const shifted = compareNextToken(referenceDistribution(p.map((value) => value + shift)), q.map((value) => value - shift), token, scratch);
        expect(plain.klDivergence).toBeGreaterThanOrEqual(0);
        expect(shifted.klDivergence).toBeCloseTo(plain.klDivergence, 4);
      }),
    );
  });

  it('equals the closed form on two tokens and the true-token log-likelihoods', () => {
    // P = softmax(0, 0) = (½, ½), Q = softmax(ln 3, 0) = (¾, ¼): KL = ½ ln(⅔) + ½ ln(2).
    const result = compareNextToken(referenceDistribution([0, 0]), [Math.log(3), 0], 1, new Float64Array(2));
    expect(result.klDivergence).toBeCloseTo(0.5 * Math.log(2 / 3) + 0.5 * Math.log(2), 7);
    expect(result.methodNegativeLogLikelihood).toBeCloseTo(Math.log(4), 7);
    expect(result.referenceNegativeLogLikelihood).toBeCloseTo(Math.log(2), 12);
    expect(result.topOneAgrees).toBe(true); // ties go to token 0 on both sides
    const disagree = compareNextToken(referenceDistribution([1, 0]), [0, 1], 0, new Float64Array(2));
    expect(disagree.topOneAgrees).toBe(false);
  });

  it('matches a float64 brute force on random distributions', () => {
    fc.assert(
      fc.property(logits, logits, (p, q) => {
        const soft = (values: number[]): number[] => {
          const total = values.reduce((sum, value) => sum + Math.exp(value), 0);
          return values.map((value) => Math.exp(value) / total);
        };
        const pp = soft(p);
        const qq = soft(Array.from(Float32Array.from(q)));
        const expected = pp.reduce((sum, value, index) => sum + value * Math.log(value / (qq[index] as number)), 0);
        const result = compareNextToken(referenceDistribution(p), Float32Array.from(q), 0, new Float64Array(vocabulary));
        expect(result.klDivergence).toBeCloseTo(Math.max(0, expected), 6);
      }),
    );
  });

  it('rejects non-finite logits, a vocabulary mismatch and a bad target', () => {
    const reference = referenceDistribution([0, 1, 2]);
    expect(() => compareNextToken(reference, [0, Number.NaN, 1], 0, new Float64Array(3))).toThrow(/non-finite/);
    expect(() => compareNextToken(reference, [0, 1], 0, new Float64Array(3))).toThrow(/vocabulary/);
    expect(() => compareNextToken(reference, [0, 1, 2], 3, new Float64Array(3))).toThrow(/outside the vocabulary/);
    expect(() => referenceDistribution([0, Number.POSITIVE_INFINITY])).toThrow(/non-finite/);
  });
});
