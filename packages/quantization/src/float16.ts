/**
 * Scalar IEEE 754 binary16 conversions, exact and runtime-agnostic.
 * Rounding goes straight from the float64 `number` to fp16 (round to nearest, ties to even), so there is no
 * double rounding through float32.
 */

/** Largest finite fp16 value. */
export const FLOAT16_MAX = 65504;
/** Smallest positive fp16 value (a subnormal), 2^-24. */
export const FLOAT16_MIN_POSITIVE = 2 ** -24;
/** Smallest positive normal fp16 value, 2^-14. */
export const FLOAT16_MIN_NORMAL = 2 ** -14;
/** The quiet NaN pattern this package writes (sign kept). */
export const FLOAT16_NAN_BITS = 0x7e00;

const scratchFloat64 = new Float64Array(1);
const scratchWords = new Int32Array(scratchFloat64.buffer); // Int32: stays a small integer in V8
// Typed arrays use the platform's byte order; find which word holds the sign and exponent.
const highWordIndex = ((): number => {
  scratchFloat64[0] = 1;
  return scratchWords[1] === 0x3ff00000 ? 1 : 0;
})();
const lowWordIndex = 1 - highWordIndex;

/** Rounds a non-negative number to an integer, ties to even. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const remainder = value - floor;
  if (remainder > 0.5 || (remainder === 0.5 && floor % 2 === 1)) {
    return floor + 1;
  }
  return floor;
}

/** The fp16 bit pattern nearest to `x` (ties to even); overflow gives ±Infinity, NaN gives a quiet NaN. */
export function float32ToFloat16Bits(x: number): number {
  scratchFloat64[0] = x;
  const high = scratchWords[highWordIndex] as number;
  const low = scratchWords[lowWordIndex] as number;
  const sign = (high >>> 16) & 0x8000;
  const exponentField = (high >>> 20) & 0x7ff;
  if (exponentField === 0x7ff) {
    const isNaN = (high & 0xfffff) !== 0 || low !== 0;
    return sign | (isNaN ? FLOAT16_NAN_BITS : 0x7c00);
  }
  const exponent = exponentField - 1023;
  if (exponent > 15) {
    return sign | 0x7c00;
  }
  if (exponent >= -14) {
    // Normal: keep the top 10 of the 52 mantissa bits, round on the other 42.
    const mantissaHigh = high & 0xfffff;
    let bits = ((exponent + 15) << 10) | (mantissaHigh >>> 10);
    const restHigh = mantissaHigh & 0x3ff;
    if (restHigh > 0x200 || (restHigh === 0x200 && (low !== 0 || (bits & 1) === 1))) {
      bits += 1; // A carry into the exponent is correct, up to 0x7c00 = Infinity.
    }
    return sign | bits;
  }
  // Subnormal or zero: count units of 2^-24 (the scaling is exact in float64).
  return sign | roundHalfEven(Math.abs(x) * 16777216);
}

const scratchFloat32 = new Float32Array(1);
const scratchFloat32Bits = new Int32Array(scratchFloat32.buffer);

/** The value of an fp16 bit pattern (exact; a float32 and a float64 hold every fp16 value). */
export function float16BitsToFloat32(bits: number): number {
  const magnitudeBits = bits & 0x7fff;
  if (magnitudeBits < 0x0400) {
    // Zero or subnormal: units of 2^-24.
    const value = magnitudeBits * FLOAT16_MIN_POSITIVE;
    return bits & 0x8000 ? -value : value;
  }
  // Normal, infinite or NaN: rebias the exponent (15 → 127) and widen the mantissa (10 → 23 bits).
  scratchFloat32Bits[0] =
    ((bits & 0x8000) << 16) | (magnitudeBits >= 0x7c00 ? 0x7f800000 | ((bits & 0x3ff) << 13) : (magnitudeBits << 13) + 0x38000000);
  return scratchFloat32[0] as number;
}

/** `x` rounded to the nearest fp16 value (ties to even), as a number. */
export function roundToFloat16(x: number): number {
  return float16BitsToFloat32(float32ToFloat16Bits(x));
}

/** The largest fp16 value ≤ x (−Infinity below −65504). `x` must not be NaN. */
export function roundDownToFloat16(x: number): number {
  const nearest = roundToFloat16(x);
  return nearest <= x ? nearest : float16BitsToFloat32(previousFloat16Bits(float32ToFloat16Bits(nearest)));
}

/** The smallest fp16 value ≥ x (+Infinity above 65504). `x` must not be NaN. */
export function roundUpToFloat16(x: number): number {
  const nearest = roundToFloat16(x);
  return nearest >= x ? nearest : float16BitsToFloat32(nextFloat16Bits(float32ToFloat16Bits(nearest)));
}

/** The fp16 pattern just above `bits` in value (−0 and +0 both step to 2^-24). Finite, non-NaN input. */
function nextFloat16Bits(bits: number): number {
  if ((bits & 0x7fff) === 0) {
    return 0x0001;
  }
  return bits & 0x8000 ? bits - 1 : bits + 1;
}

/** The fp16 pattern just below `bits` in value. Finite, non-NaN input. */
function previousFloat16Bits(bits: number): number {
  if ((bits & 0x7fff) === 0) {
    return 0x8001;
  }
  return bits & 0x8000 ? bits + 1 : bits - 1;
}
