import { describe, expect, it } from 'vitest';
import { bitWidthColor } from './bit-colors.js';

describe('bitWidthColor', () => {
  it('hits the stops and keeps fp16 and empty apart', () => {
    expect(bitWidthColor(1)).toEqual([68, 1, 84]);
    expect(bitWidthColor(8)).toEqual([253, 231, 37]);
    expect(bitWidthColor(16)).toEqual([236, 236, 236]);
    expect(bitWidthColor(0)).toEqual([24, 26, 32]);
  });
  it('is monotone in green over 1..8 bits', () => {
    let previous = -1;
    for (let bits = 1; bits <= 8; bits += 0.5) {
      const green = bitWidthColor(bits)[1];
      expect(green).toBeGreaterThan(previous);
      previous = green;
    }
  });
});
