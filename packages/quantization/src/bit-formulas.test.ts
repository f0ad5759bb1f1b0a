import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitsForRange, keyAllowedStd, keyAllowedStdForAttention, valueAllowedStd } from './bit-formulas.js';
import { BIT_WIDTHS } from './bit-width.js';

const SQRT_12 = Math.sqrt(12);
const bitWidth = fc.constantFrom(...BIT_WIDTHS);
const bounds = fc.tuple(bitWidth, bitWidth).map(([a, b]) => (a <= b ? ([a, b] as const) : ([b, a] as const)));
const positive = fc.double({ min: 1e-6, max: 1e6, noNaN: true });

describe('bitsForRange', () => {
  it('is ⌈log2(range/(√12·σ))⌉, exact at powers of two', () => {
    // range/(√12σ) = 2^k exactly needs k bits; a hair more needs k + 1.
    for (let k = 1; k <= 8; k += 1) {
      const allowedStd = 1 / SQRT_12;
      expect(bitsForRange(2 ** k, allowedStd, 1, 8)).toBe(k);
      expect(bitsForRange(2 ** k * 1.0001, allowedStd, 1, 16)).toBe(k === 8 ? 16 : k + 1);
    }
    expect(bitsForRange(10, 0.01, 1, 8)).toBe(8);
    expect(bitsForRange(10, 0.1, 1, 8)).toBe(5); // 10/(0.3464) = 28.9 → 5
    expect(bitsForRange(10, 0.1, 6, 8)).toBe(6);
    expect(bitsForRange(10, 0.1, 1, 4)).toBe(4);
  });

  it('handles the edge cases', () => {
    expect(bitsForRange(0, 0.1, 2, 8)).toBe(2);
    expect(bitsForRange(0, 0, 2, 8)).toBe(2);
    expect(bitsForRange(5, 0, 2, 8)).toBe(8);
    expect(bitsForRange(5, -1, 2, 16)).toBe(16);
    expect(bitsForRange(5, Infinity, 3, 8)).toBe(3);
    expect(bitsForRange(1e-30, 1, 1, 8)).toBe(1);
    expect(bitsForRange(1e6, 1e-6, 1, 16)).toBe(16); // needs > 8: jumps to 16
    expect(bitsForRange(1e6, 1e-6, 1, 7)).toBe(7);
    expect(bitsForRange(1e6, 1e-6, 16, 16)).toBe(16);
  });

  it('rejects invalid arguments', () => {
    expect(() => bitsForRange(1, 1, 0, 8)).toThrow(expect.objectContaining({ code: 'invalid-bit-width' }));
    expect(() => bitsForRange(1, 1, 1, 9)).toThrow(expect.objectContaining({ code: 'invalid-bit-width' }));
    expect(() => bitsForRange(1, 1, 8, 4)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => bitsForRange(-1, 1, 1, 8)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => bitsForRange(Number.NaN, 1, 1, 8)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => bitsForRange(Infinity, 1, 1, 8)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => bitsForRange(1, Number.NaN, 1, 8)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });

  it('stays in [min, max], is never 9..15, gives the error std it promises, and is monotone', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), positive, positive, bounds, (range, std, otherStd, [minimumBits, maximumBits]) => {
        const bits = bitsForRange(range, std, minimumBits, maximumBits);
        expect(bits).toBeGreaterThanOrEqual(minimumBits);
        expect(bits).toBeLessThanOrEqual(maximumBits);
        expect(BIT_WIDTHS).toContain(bits);
        // Unless clamped at the top, the uniform error std range/(2^B·√12) is within the budget.
        if (bits < maximumBits) {
          expect(range / (2 ** bits * SQRT_12)).toBeLessThanOrEqual(std * (1 + 1e-12));
        }
        // Looser budgets never give more bits; wider ranges never fewer.
        const looser = Math.max(std, otherStd);
        const tighter = Math.min(std, otherStd);
        expect(bitsForRange(range, looser, minimumBits, maximumBits)).toBeLessThanOrEqual(
          bitsForRange(range, tighter, minimumBits, maximumBits),
        );
        expect(bitsForRange(range * 2, std, minimumBits, maximumBits)).toBeGreaterThanOrEqual(bits);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('valueAllowedStd', () => {
  it('is σ_X,max / (√T · S_t)', () => {
    expect(valueAllowedStd(0.1, 100, 0.05)).toBeCloseTo(0.2, 12);
    expect(valueAllowedStd(1, 4, 1)).toBe(0.5);
    expect(valueAllowedStd(1, 4, 0)).toBe(Infinity);
    expect(valueAllowedStd(0, 4, 0.5)).toBe(0);
  });

  it('is monotone: looser σ or less attention allows more; more tokens allow less', () => {
    fc.assert(
      fc.property(positive, positive, fc.integer({ min: 1, max: 100000 }), fc.integer({ min: 1, max: 100 }), fc.double({ min: 1e-6, max: 1, noNaN: true }), fc.double({ min: 1e-6, max: 1, noNaN: true }), (a, b, tokens, extra, s1, s2) => {
        expect(valueAllowedStd(Math.max(a, b), tokens, s1)).toBeGreaterThanOrEqual(valueAllowedStd(Math.min(a, b), tokens, s1));
        expect(valueAllowedStd(a, tokens, Math.min(s1, s2))).toBeGreaterThanOrEqual(valueAllowedStd(a, tokens, Math.max(s1, s2)));
        expect(valueAllowedStd(a, tokens + extra, s1)).toBeLessThanOrEqual(valueAllowedStd(a, tokens, s1));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects invalid arguments', () => {
    expect(() => valueAllowedStd(-1, 4, 0.5)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => valueAllowedStd(1, 0, 0.5)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => valueAllowedStd(1, 2.5, 0.5)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => valueAllowedStd(1, 4, Number.NaN)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});

describe('keyAllowedStd', () => {
  it('is sqrt(ln(T³/(T−1)·σ² + 1) / ‖q̃‖²)', () => {
    const expected = Math.sqrt(Math.log(((100 ** 3) / 99) * 0.01 + 1) / 30);
    expect(keyAllowedStd(0.1, 100, 30)).toBeCloseTo(expected, 14);
    expect(keyAllowedStd(0.1, 1, 30)).toBe(Infinity); // a lone token's softmax is 1
    expect(keyAllowedStd(0.1, 5, 0)).toBe(Infinity);
    expect(keyAllowedStd(0, 5, 3)).toBe(0);
  });

  it('is monotone: looser σ or smaller ‖q̃‖² allows more; so does a longer context (T³/(T−1) grows)', () => {
    fc.assert(
      fc.property(positive, positive, fc.integer({ min: 2, max: 100000 }), fc.integer({ min: 1, max: 100 }), positive, positive, (a, b, tokens, extra, q1, q2) => {
        expect(keyAllowedStd(Math.max(a, b), tokens, q1)).toBeGreaterThanOrEqual(keyAllowedStd(Math.min(a, b), tokens, q1));
        expect(keyAllowedStd(a, tokens, Math.min(q1, q2))).toBeGreaterThanOrEqual(keyAllowedStd(a, tokens, Math.max(q1, q2)));
        expect(keyAllowedStd(a, tokens + extra, q1)).toBeGreaterThanOrEqual(keyAllowedStd(a, tokens, q1));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects invalid arguments', () => {
    expect(() => keyAllowedStd(Number.NaN, 4, 1)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => keyAllowedStd(1, 0, 1)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => keyAllowedStd(1, 4, -1)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});

describe('keyAllowedStdForAttention', () => {
  it('is sqrt(ln(σ²/S_t² + 1) / ‖q̃‖²), +Infinity where nobody attends or scores ignore the keys', () => {
    expect(keyAllowedStdForAttention(0.01, 0.002, 4)).toBeCloseTo(Math.sqrt(Math.log(26) / 4), 14);
    expect(keyAllowedStdForAttention(0.01, 0, 4)).toBe(Infinity);
    expect(keyAllowedStdForAttention(0.01, 0.5, 0)).toBe(Infinity);
    expect(keyAllowedStdForAttention(0, 0.5, 4)).toBe(0);
  });

  it('with uniform attention S_t = 1/T it is the paper bound, within its factor T/(T−1)', () => {
    fc.assert(
      fc.property(positive, fc.integer({ min: 2, max: 100000 }), positive, (sigma, tokens, norm) => {
        const uniform = keyAllowedStd(sigma, tokens, norm);
        const predicted = keyAllowedStdForAttention(sigma, 1 / tokens, norm);
        expect(predicted).toBeLessThanOrEqual(uniform * (1 + 1e-12));
        expect(predicted).toBeGreaterThanOrEqual(uniform * Math.sqrt((tokens - 1) / tokens) * (1 - 1e-12));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives tokens with more predicted attention a smaller allowed error', () => {
    fc.assert(
      fc.property(positive, positive, positive, positive, (sigma, a, b, norm) => {
        expect(keyAllowedStdForAttention(sigma, Math.min(a, b), norm)).toBeGreaterThanOrEqual(keyAllowedStdForAttention(sigma, Math.max(a, b), norm));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects invalid arguments', () => {
    expect(() => keyAllowedStdForAttention(Number.NaN, 0.1, 1)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => keyAllowedStdForAttention(1, -0.1, 1)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => keyAllowedStdForAttention(1, 0.1, Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});
