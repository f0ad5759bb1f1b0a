import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isQaqError } from '@qaq/errors';
import { RelativeErrorQuantile } from './relative-error-quantile.js';

/** The ⌊q·(n − 1)⌋-th smallest value: what the sketch promises to approximate. */
function orderStatistic(values: readonly number[], quantile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(quantile * (sorted.length - 1))] as number;
}

function withinRelative(estimate: number, exact: number, accuracy: number): boolean {
  // A hair of slack for rounding in log(x)/log(γ) at bucket boundaries.
  return Math.abs(estimate - exact) <= accuracy * exact * (1 + 1e-9) + Number.MIN_VALUE;
}

const nonNegative = fc.oneof(
  fc.constant(0),
  fc.double({ min: 1e-12, max: 1e12, noNaN: true }),
  fc.double({ min: 0.5, max: 2, noNaN: true }),
);
const quantiles = fc.double({ min: 0.001, max: 0.999, noNaN: true });
const accuracies = fc.constantFrom(0.001, 0.005, 0.02, 0.1);

/** Log-normal stream, like squared query norms; the LCG matches the one that froze P² (seed −550999545). */
function logNormalStream(seed: number, length: number): number[] {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const values: number[] = [];
  for (let index = 0; index < length; index += 1) {
    const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    values.push(Math.exp(0.5 * normal) * 40);
  }
  return values;
}

describe('RelativeErrorQuantile', () => {
  it('is within α of the ⌊q·(n − 1)⌋-th smallest value for any stream of non-negative values', () => {
    fc.assert(
      fc.property(fc.array(nonNegative, { minLength: 1, maxLength: 400, size: 'large' }), quantiles, accuracies, (values, quantile, accuracy) => {
        // Buckets enough for 24 decades at α = 0.1 %: no merging here (tested below).
        const estimator = new RelativeErrorQuantile(quantile, { relativeAccuracy: accuracy, maxBuckets: 30_000 });
        values.forEach((value) => estimator.add(value));
        expect(estimator.count).toBe(values.length);
        const exact = orderStatistic(values, quantile);
        expect(withinRelative(estimator.value(), exact, accuracy)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('answers the same whatever the order of the values', () => {
    fc.assert(
      fc.property(fc.array(nonNegative, { minLength: 1, maxLength: 200, size: 'large' }), quantiles, (values, quantile) => {
        const forward = new RelativeErrorQuantile(quantile);
        const backward = new RelativeErrorQuantile(quantile);
        values.forEach((value) => forward.add(value));
        [...values].reverse().forEach((value) => backward.add(value));
        expect(backward.value()).toBe(forward.value());
      }),
    );
  });

  it('stays within α on the log-normal stream whose unlucky start froze the P² markers 10 % off', () => {
    for (const quantile of [0.5, 0.9, 0.99]) {
      const values = logNormalStream(-550999545, 5000);
      const estimator = new RelativeErrorQuantile(quantile);
      values.forEach((value) => estimator.add(value));
      expect(withinRelative(estimator.value(), orderStatistic(values, quantile), 0.005)).toBe(true);
    }
  });

  it('keeps at most maxBuckets buckets, merging the lowest: high quantiles keep α, low ones are only overestimated', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-30, max: 1e30, noNaN: true }), { minLength: 1, maxLength: 300, size: 'large' }),
        fc.integer({ min: 2, max: 64 }),
        fc.boolean(),
        (values, maxBuckets, ascending) => {
          const ordered = [...values].sort((a, b) => (ascending ? a - b : b - a));
          const high = new RelativeErrorQuantile(0.99, { relativeAccuracy: 0.01, maxBuckets });
          const low = new RelativeErrorQuantile(0.01, { relativeAccuracy: 0.01, maxBuckets });
          ordered.forEach((value) => {
            high.add(value);
            low.add(value);
            expect(high.bucketCount).toBeLessThanOrEqual(maxBuckets);
          });
          const exactLow = orderStatistic(values, 0.01);
          expect(low.value()).toBeGreaterThanOrEqual(exactLow * (1 - 0.01 * (1 + 1e-9)));
          // The 0.99 rank is within α whenever its bucket is one of the maxBuckets highest.
          const exactHigh = orderStatistic(values, 0.99);
          const gamma = 1.01 / 0.99;
          const topBucket = Math.ceil(Math.log(Math.max(...values)) / Math.log(gamma));
          const rankBucket = Math.ceil(Math.log(exactHigh) / Math.log(gamma));
          if (topBucket - rankBucket < maxBuckets - 1) expect(withinRelative(high.value(), exactHigh, 0.01)).toBe(true);
        },
      ),
    );
  });

  it('grows its counts as the range widens and snapshots them', () => {
    const estimator = new RelativeErrorQuantile(0.5, { relativeAccuracy: 0.01 });
    expect(Number.isNaN(estimator.value())).toBe(true);
    expect(estimator.toJSON()).toMatchObject({ count: 0, minimum: null, bucketCounts: [] });
    for (let exponent = -8; exponent <= 8; exponent += 1) estimator.add(10 ** exponent);
    estimator.add(0);
    const snapshot = estimator.toJSON();
    expect(snapshot.count).toBe(18);
    expect(snapshot.zeroCount).toBe(1);
    expect(snapshot.bucketCounts.reduce((sum, count) => sum + count, 0)).toBe(17);
    expect(estimator.bucketCount).toBe(snapshot.bucketCounts.length);
    expect(withinRelative(estimator.value(), 10 ** -1, 0.01)).toBe(true);
  });

  it('rejects bad settings and bad input, losing nothing', () => {
    expect(() => new RelativeErrorQuantile(1)).toThrow(/quantile/);
    expect(() => new RelativeErrorQuantile(0)).toThrow(/quantile/);
    expect(() => new RelativeErrorQuantile(0.5, { relativeAccuracy: 0 })).toThrow(/relativeAccuracy/);
    expect(() => new RelativeErrorQuantile(0.5, { maxBuckets: 1.5 })).toThrow(/maxBuckets/);
    const estimator = new RelativeErrorQuantile(0.5);
    estimator.add(3);
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN, -1]) {
      try {
        estimator.add(bad);
        expect.unreachable();
      } catch (error) {
        expect(isQaqError(error, 'invalid-value')).toBe(true);
      }
    }
    expect(estimator.count).toBe(1);
    expect(estimator.value()).toBe(3);
  });
});
