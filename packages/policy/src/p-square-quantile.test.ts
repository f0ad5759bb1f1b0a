import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PSquareQuantile } from './p-square-quantile.js';

function exactQuantile(values: number[], quantile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = quantile * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return (sorted[low] as number) + (rank - low) * ((sorted[high] as number) - (sorted[low] as number));
}

describe('PSquareQuantile', () => {
  it('is exact below five observations', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 4 }), (values) => {
        const estimator = new PSquareQuantile(0.9);
        values.forEach((value) => estimator.add(value));
        expect(estimator.value()).toBeCloseTo(exactQuantile(values, 0.9), 6);
      }),
    );
  });

  it('tracks the exact 0.9 quantile of skewed streams within a few percent', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(0.5, 0.9, 0.99), (seed, quantile) => {
        let state = seed >>> 0;
        const uniform = (): number => {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          return (state + 0.5) / 2 ** 32;
        };
        const values: number[] = [];
        const estimator = new PSquareQuantile(quantile);
        for (let index = 0; index < 5000; index += 1) {
          // Log-normal, like squared query norms.
          const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
          const value = Math.exp(0.5 * normal) * 40;
          values.push(value);
          estimator.add(value);
        }
        const exact = exactQuantile(values, quantile);
        expect(Math.abs(estimator.value() - exact) / exact).toBeLessThan(quantile === 0.99 ? 0.08 : 0.04);
      }),
      { numRuns: 20 },
    );
  });

  it('rejects bad quantiles and non-finite input', () => {
    expect(() => new PSquareQuantile(1)).toThrow(/quantile/);
    expect(() => new PSquareQuantile(0)).toThrow(/quantile/);
    const estimator = new PSquareQuantile(0.5);
    expect(Number.isNaN(estimator.value())).toBe(true);
    expect(() => estimator.add(Number.POSITIVE_INFINITY)).toThrow(/finite/);
    expect(estimator.count).toBe(0);
  });
});
