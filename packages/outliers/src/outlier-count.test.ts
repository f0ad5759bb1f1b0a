import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTLIER_FRACTION, outlierCountPerSide } from './outlier-count.js';

describe('outlierCountPerSide', () => {
  it('keeps round(α·N/2) per side: α·N in [1, 2) → 1, α·N < 1 → 0', () => {
    expect(DEFAULT_OUTLIER_FRACTION).toBe(0.01);
    expect(outlierCountPerSide(64)).toBe(0); // α·N = 0.64
    expect(outlierCountPerSide(99)).toBe(0);
    expect(outlierCountPerSide(100)).toBe(1); // α·N = 1
    expect(outlierCountPerSide(128)).toBe(1);
    expect(outlierCountPerSide(199)).toBe(1);
    expect(outlierCountPerSide(256)).toBe(1); // 2.56/2 = 1.28
    expect(outlierCountPerSide(300)).toBe(2); // 1.5 rounds up
    expect(outlierCountPerSide(576)).toBe(3); // 2.88
    expect(outlierCountPerSide(64, 0.02)).toBe(1); // 1.28 → 1 per side
    expect(outlierCountPerSide(64, 0.015)).toBe(0); // 0.96 < 1
    expect(outlierCountPerSide(64, 0.25)).toBe(8);
    expect(outlierCountPerSide(0)).toBe(0);
    expect(outlierCountPerSide(1000, 0)).toBe(0);
  });

  it('never selects more than the group and follows the rule for every length and fraction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100000 }), fc.double({ min: 0, max: 0.4999, noNaN: true }), (length, fraction) => {
        const perSide = outlierCountPerSide(length, fraction);
        expect(Number.isInteger(perSide)).toBe(true);
        expect(2 * perSide).toBeLessThanOrEqual(length);
        const expected = (fraction * length) / 2;
        expect(Math.abs(perSide - expected)).toBeLessThanOrEqual(0.5 + 1e-9);
        if (fraction * length < 1 - 1e-9) expect(perSide).toBe(0);
        if (fraction * length >= 1 && fraction * length < 2) expect(perSide).toBe(1);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects fractions outside [0, 0.5) and bad lengths', () => {
    for (const fraction of [-0.01, 0.5, 0.75, Number.NaN, Infinity]) {
      expect(() => outlierCountPerSide(64, fraction)).toThrow(expect.objectContaining({ code: 'invalid-outlier-fraction' }));
    }
    for (const length of [-1, 2.5, Number.NaN]) {
      expect(() => outlierCountPerSide(length)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
    }
  });
});
