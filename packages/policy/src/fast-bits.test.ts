import { bitsForRange } from '@qaq/quantization';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastBitsForRange } from './fast-bits.js';

describe('fastBitsForRange', () => {
  it('equals bitsForRange from @qaq/quantization', () => {
    const widths = fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 16);
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e5, noNaN: true }), fc.constantFrom(1, 2, 4, 8, 256, 0.5)),
        fc.oneof(fc.double({ min: 1e-12, max: 1e3, noNaN: true }), fc.constant(Number.POSITIVE_INFINITY), fc.constantFrom(1 / Math.sqrt(12), 0.25 / Math.sqrt(12))),
        widths,
        widths,
        (range, allowedStd, a, b) => {
          const minBits = Math.min(a, b);
          const maxBits = Math.max(a, b);
          expect(fastBitsForRange(range, allowedStd, minBits, maxBits)).toBe(bitsForRange(range, allowedStd, minBits, maxBits));
        },
      ),
      { numRuns: 5000 },
    );
    // Exact powers of two at the boundary: ratio 2^k needs k bits.
    for (let k = 0; k <= 9; k += 1) {
      const range = 2 ** k * Math.sqrt(12);
      expect(fastBitsForRange(range, 1, 1, 16)).toBe(bitsForRange(range, 1, 1, 16));
    }
  });
});
