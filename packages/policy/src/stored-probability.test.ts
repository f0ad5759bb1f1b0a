import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeProbability,
  encodeProbability,
  largestProbabilityCode,
  storedProbability,
  storedProbabilityAbsoluteError,
  storedProbabilityRelativeError,
} from './stored-probability.js';

const patternOf = (probability: number): number => new Uint32Array(Float32Array.of(probability).buffer)[0] as number;

describe('stored probabilities (8-bit codes)', () => {
  it('puts 0 at code 0, 2^-31 at 1, 1 at the largest code, and clamps softmax sums just above 1', () => {
    expect(encodeProbability(patternOf(0))).toBe(0);
    expect(encodeProbability(patternOf(-0))).toBe(0);
    expect(encodeProbability(patternOf(2 ** -31))).toBe(1);
    expect(encodeProbability(patternOf(2 ** -33))).toBe(0);
    expect(encodeProbability(patternOf(1))).toBe(largestProbabilityCode);
    expect(largestProbabilityCode).toBeLessThan(256);
    expect(encodeProbability(patternOf(1.0001))).toBe(largestProbabilityCode);
    expect(decodeProbability(largestProbabilityCode)).toBe(1);
    expect(decodeProbability(0)).toBe(0);
    // Eight codes per octave: powers of two and their eighths are exact.
    for (const probability of [0.5, 0.625, 2 ** -20, 0.875 * 2 ** -7]) expect(storedProbability(probability)).toBe(probability);
  });

  it('stays within 1/16 (2^-31 absolute below 2^-31), keeps the order, and decodes its own codes exactly', () => {
    fc.assert(
      fc.property(fc.float({ min: 0, max: 1, noNaN: true }), fc.float({ min: 0, max: 1, noNaN: true }), (first, second) => {
        for (const probability of [first, second]) {
          const stored = storedProbability(probability);
          expect(Math.abs(stored - Math.abs(probability))).toBeLessThanOrEqual(
            Math.max(Math.abs(probability) * storedProbabilityRelativeError, storedProbabilityAbsoluteError),
          );
          expect(storedProbability(stored)).toBe(stored);
        }
        if (first <= second) expect(encodeProbability(patternOf(first))).toBeLessThanOrEqual(encodeProbability(patternOf(second)));
      }),
    );
  });
});
