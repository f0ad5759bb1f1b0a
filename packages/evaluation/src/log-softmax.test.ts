import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argmax, logSoftmaxInto } from './log-softmax.js';

const logitArrays = fc.array(fc.float({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 64 });

describe('logSoftmaxInto', () => {
  it('gives probabilities that sum to 1 and are ≤ 1', () => {
    fc.assert(
      fc.property(logitArrays, (logits) => {
        const output = new Float64Array(logits.length);
        logSoftmaxInto(logits, output);
        let sum = 0;
        for (const value of output) {
          expect(value).toBeLessThanOrEqual(1e-12);
          sum += Math.exp(value);
        }
        expect(sum).toBeCloseTo(1, 12);
      }),
    );
  });

  it('is invariant to adding a constant to every logit', () => {
    fc.assert(
      fc.property(logitArrays, fc.double({ min: -1000, max: 1000, noNaN: true }), (logits, shift) => {
        const plain = new Float64Array(logits.length);
        const shifted = new Float64Array(logits.length);
        logSoftmaxInto(logits, plain);
        logSoftmaxInto(logits.map((value) => value + shift), shifted);
        for (let index = 0; index < logits.length; index++) expect(shifted[index]).toBeCloseTo(plain[index] as number, 8);
      }),
    );
  });

  it('stays finite for logits that would overflow exp', () => {
    const output = new Float64Array(3);
    logSoftmaxInto([10_000, 9_999, -10_000], output);
    expect(output[0]).toBeCloseTo(-Math.log(1 + Math.exp(-1)), 12);
    expect(output[1]).toBeCloseTo(-1 - Math.log(1 + Math.exp(-1)), 12);
    expect(output[2]).toBeLessThan(-19_000);
  });

  it('matches the textbook formula where it does not overflow', () => {
    const logits = [0.5, -1.25, 2, 0];
    const output = new Float64Array(4);
    logSoftmaxInto(logits, output);
    const total = logits.reduce((sum, value) => sum + Math.exp(value), 0);
    logits.forEach((value, index) => expect(output[index]).toBeCloseTo(Math.log(Math.exp(value) / total), 14));
  });
});

describe('argmax', () => {
  it('returns the first index of the maximum', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([-5])).toBe(0);
    fc.assert(
      fc.property(logitArrays, (values) => {
        const index = argmax(values);
        expect(values.every((value) => value <= (values[index] as number))).toBe(true);
        expect(values.slice(0, index).every((value) => value < (values[index] as number))).toBe(true);
      }),
    );
  });
});
