import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricAccumulator, nearestRankQuantile } from './metric-accumulator.js';

describe('nearestRankQuantile', () => {
  it('returns one of the values with at least ⌈q·n⌉ values at or below it and fewer strictly below', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (values, quantile) => {
        const result = nearestRankQuantile(values, quantile);
        const rank = Math.ceil(quantile * values.length);
        expect(values).toContain(result);
        expect(values.filter((value) => value <= result).length).toBeGreaterThanOrEqual(rank);
        expect(values.filter((value) => value < result).length).toBeLessThan(rank);
      }),
    );
  });

  it('is the 99th value of 1..100 and NaN for nothing', () => {
    expect(nearestRankQuantile(Array.from({ length: 100 }, (_, index) => index + 1), 0.99)).toBe(99);
    expect(nearestRankQuantile([3], 0.99)).toBe(3);
    expect(nearestRankQuantile([], 0.99)).toBeNaN();
  });
});

describe('MetricAccumulator', () => {
  it('sums means, perplexities, agreement and the KL percentile over many tokens (growing its buffer)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            klDivergence: fc.double({ min: 0, max: 5, noNaN: true }),
            methodNegativeLogLikelihood: fc.double({ min: 0, max: 15, noNaN: true }),
            referenceNegativeLogLikelihood: fc.double({ min: 0, max: 15, noNaN: true }),
            topOneAgrees: fc.boolean(),
          }),
          { minLength: 1, maxLength: 2500 },
        ),
        (comparisons) => {
          const accumulator = new MetricAccumulator();
          for (const comparison of comparisons) accumulator.add(comparison);
          const summary = accumulator.summary();
          const count = comparisons.length;
          const mean = (pick: (value: (typeof comparisons)[number]) => number): number => comparisons.reduce((sum, value) => sum + pick(value), 0) / count;
          expect(summary.scoredTokens).toBe(count);
          expect(summary.klMean).toBeCloseTo(mean((value) => value.klDivergence), 10);
          expect(summary.perplexity).toBeCloseTo(Math.exp(mean((value) => value.methodNegativeLogLikelihood)), 6);
          expect(summary.referencePerplexity).toBeCloseTo(Math.exp(mean((value) => value.referenceNegativeLogLikelihood)), 6);
          expect(summary.topOneAgreement).toBeCloseTo(comparisons.filter((value) => value.topOneAgrees).length / count, 12);
          expect(summary.klMax).toBe(Math.max(...comparisons.map((value) => value.klDivergence)));
          expect(summary.klP99).toBe(nearestRankQuantile(comparisons.map((value) => value.klDivergence), 0.99));
          expect(accumulator.divergences()).toEqual(Float64Array.from(comparisons.map((value) => value.klDivergence)));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('reports NaN before any token', () => {
    expect(new MetricAccumulator().summary().klMean).toBeNaN();
  });
});
