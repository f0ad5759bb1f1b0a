import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FLOAT16_MAX,
  FLOAT16_MIN_POSITIVE,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  roundDownToFloat16,
  roundToFloat16,
  roundUpToFloat16,
} from './float16.js';

/** Independent reference decoder: assemble the float32 bit pattern by hand and read it back. */
function referenceDecode(bits: number): number {
  const sign = (bits & 0x8000) << 16;
  const exponent = (bits >>> 10) & 0x1f;
  let mantissa = bits & 0x3ff;
  const words = new Uint32Array(1);
  if (exponent === 0x1f) {
    words[0] = sign | 0x7f800000 | (mantissa << 13);
  } else if (exponent === 0) {
    if (mantissa === 0) {
      words[0] = sign;
    } else {
      // Normalize the subnormal: shift until the hidden bit appears.
      let shift = 0;
      while ((mantissa & 0x400) === 0) {
        mantissa <<= 1;
        shift += 1;
      }
      words[0] = sign | ((127 - 15 - shift + 1) << 23) | ((mantissa & 0x3ff) << 13);
    }
  } else {
    words[0] = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  }
  return new Float32Array(words.buffer)[0] as number;
}

const isNaNBits = (bits: number): boolean => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;

/** Next float32 above/below a finite float32 value, by bit pattern. */
function nextFloat32(value: number, direction: 1 | -1): number {
  const floats = new Float32Array([value]);
  const words = new Int32Array(floats.buffer);
  if (value === 0) {
    words[0] = direction === 1 ? 1 : -2147483647;
  } else {
    words[0] = (words[0] as number) + ((value > 0) === (direction === 1) ? 1 : -1);
  }
  return floats[0] as number;
}

describe('fp16 scalar conversion', () => {
  it('decodes all 65,536 bit patterns like an independent reference, exactly representable in float32', () => {
    for (let bits = 0; bits < 65536; bits += 1) {
      const value = float16BitsToFloat32(bits);
      const reference = referenceDecode(bits);
      if (isNaNBits(bits)) {
        expect(Number.isNaN(value)).toBe(true);
        continue;
      }
      if (!Object.is(value, reference)) {
        expect.fail(`bits 0x${bits.toString(16)}: ${value} vs ${reference}`);
      }
      expect(Math.fround(value)).toBe(value);
    }
  });

  it('encodes every non-NaN fp16 value back to its own bit pattern (both signs of zero included)', () => {
    for (let bits = 0; bits < 65536; bits += 1) {
      if (isNaNBits(bits)) continue;
      const encoded = float32ToFloat16Bits(float16BitsToFloat32(bits));
      if (encoded !== bits) expect.fail(`0x${bits.toString(16)} -> 0x${encoded.toString(16)}`);
    }
  });

  it('rounds to nearest, ties to even, at every midpoint between adjacent fp16 values (exhaustive)', () => {
    // Positive finite patterns are ordered by value; check the midpoint and its float32 neighbours for each pair.
    for (let lower = 0; lower < 0x7bff; lower += 1) {
      const upper = lower + 1;
      const a = float16BitsToFloat32(lower);
      const b = float16BitsToFloat32(upper);
      const midpoint = (a + b) / 2;
      expect(Math.fround(midpoint)).toBe(midpoint); // midpoints need 12 bits: float32-exact
      const even = lower % 2 === 0 ? lower : upper;
      const checks: [number, number][] = [
        [midpoint, even],
        [nextFloat32(midpoint, -1), lower],
        [nextFloat32(midpoint, 1), upper],
        [-midpoint, even | 0x8000],
        [-nextFloat32(midpoint, 1), upper | 0x8000],
      ];
      for (const [input, expected] of checks) {
        const got = float32ToFloat16Bits(input);
        if (got !== expected) expect.fail(`${input}: got 0x${got.toString(16)}, expected 0x${expected.toString(16)}`);
      }
    }
  });

  it('handles overflow, infinities, NaN and underflow', () => {
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65519.99)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // the tie rounds to even, i.e. to Infinity
    expect(float32ToFloat16Bits(1e10)).toBe(0x7c00);
    expect(float32ToFloat16Bits(-1e10)).toBe(0xfc00);
    expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
    expect(float32ToFloat16Bits(-Infinity)).toBe(0xfc00);
    expect(float32ToFloat16Bits(NaN) & 0x7fff).toBe(0x7e00);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0); // tie between 0 and 2^-24 goes to even 0
    expect(float32ToFloat16Bits(2 ** -25 * 1.0001)).toBe(1);
    expect(float32ToFloat16Bits(3 * 2 ** -25)).toBe(2); // tie between 1 and 2 units goes to 2
    expect(float32ToFloat16Bits(1e-30)).toBe(0);
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(float16BitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(float16BitsToFloat32(0x0001)).toBe(FLOAT16_MIN_POSITIVE);
    expect(float16BitsToFloat32(0x7bff)).toBe(FLOAT16_MAX);
  });

  it('rounds float64 inputs directly (no double rounding through float32)', () => {
    // 1 + 2^-11 + 2^-40 is just above the midpoint of 1 and 1 + 2^-10; float32 would round it onto the midpoint.
    const x = 1 + 2 ** -11 + 2 ** -40;
    expect(Math.fround(x)).toBe(1 + 2 ** -11);
    expect(float32ToFloat16Bits(x)).toBe(0x3c01);
  });

  it('matches a brute-force nearest search for arbitrary float32 inputs', () => {
    const finiteValues: number[] = [];
    for (let bits = 0; bits <= 0x7bff; bits += 1) finiteValues.push(float16BitsToFloat32(bits));
    fc.assert(
      fc.property(fc.float({ noNaN: true, min: -65504, max: 65504 }), (x) => {
        const magnitude = Math.abs(x);
        let low = 0;
        let high = finiteValues.length - 1;
        while (high - low > 1) {
          const middle = (low + high) >> 1;
          if ((finiteValues[middle] as number) <= magnitude) low = middle;
          else high = middle;
        }
        const below = finiteValues[low] as number;
        const above = finiteValues[high] as number;
        let nearest: number;
        if (magnitude - below < above - magnitude) nearest = low;
        else if (magnitude - below > above - magnitude) nearest = high;
        else nearest = low % 2 === 0 ? low : high;
        if (magnitude === below) nearest = low;
        const expected = (Object.is(x, -0) || x < 0 ? 0x8000 : 0) | nearest;
        expect(float32ToFloat16Bits(x)).toBe(expected);
      }),
      { numRuns: 20000 },
    );
  });

  it('rounds down and up to fp16 conservatively', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true, min: -65504, max: 65504 }), (x) => {
        const down = roundDownToFloat16(x);
        const up = roundUpToFloat16(x);
        expect(down).toBeLessThanOrEqual(x);
        expect(up).toBeGreaterThanOrEqual(x);
        expect(roundToFloat16(down)).toBe(down);
        expect(roundToFloat16(up)).toBe(up);
        // Equal when x is fp16-exact, otherwise adjacent fp16 values (ordinals differ by one).
        const ordinal = (value: number): number => {
          const bits = float32ToFloat16Bits(value);
          return bits & 0x8000 ? -(bits & 0x7fff) : bits;
        };
        expect(ordinal(up) - ordinal(down)).toBe(down === up ? 0 : 1);
        const nearest = roundToFloat16(x);
        expect(nearest === down || nearest === up).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(roundDownToFloat16(1e-30)).toBe(0);
    expect(roundUpToFloat16(1e-30)).toBe(FLOAT16_MIN_POSITIVE);
    expect(roundDownToFloat16(-1e-30)).toBe(-FLOAT16_MIN_POSITIVE);
    expect(roundUpToFloat16(0.1)).toBeGreaterThan(0.1);
    expect(roundDownToFloat16(0.1)).toBeLessThan(0.1);
    expect(roundDownToFloat16(-65519)).toBe(-Infinity);
    expect(roundUpToFloat16(65505)).toBe(Infinity);
  });
});
