import { describe, expect, it } from 'vitest';
import { BIT_WIDTHS, assertBitWidth, assertPackedBitWidth, isBitWidth, isPackedBitWidth } from './bit-width.js';

describe('bit widths', () => {
  it('accepts 1..8 and 16 only', () => {
    expect(BIT_WIDTHS).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 16]);
    for (const bits of BIT_WIDTHS) {
      expect(isBitWidth(bits)).toBe(true);
      expect(() => assertBitWidth(bits)).not.toThrow();
    }
    for (const bits of [0, 9, 15, 17, -1, 1.5, Number.NaN, Infinity]) {
      expect(isBitWidth(bits)).toBe(false);
      expect(() => assertBitWidth(bits)).toThrow(expect.objectContaining({ code: 'invalid-bit-width', details: { bits } }));
    }
    expect(isBitWidth('4')).toBe(false);
  });

  it('packed widths exclude 16', () => {
    expect(isPackedBitWidth(8)).toBe(true);
    expect(isPackedBitWidth(16)).toBe(false);
    expect(() => assertPackedBitWidth(16)).toThrow(expect.objectContaining({ code: 'invalid-bit-width' }));
    expect(() => assertPackedBitWidth(1)).not.toThrow();
  });
});
