import { assertGroupValues } from './validation.js';
import { FLOAT16_MAX, FLOAT16_MIN_POSITIVE, float16BitsToFloat32, float32ToFloat16Bits, roundDownToFloat16, roundToFloat16, roundUpToFloat16 } from './float16.js';

/**
 * Quantizer parameters for one group (qaq-method.md §1): asymmetric min–max with 2^B equal segments of width
 * `step` and midpoint reconstruction x̂ = minimum + (code + 0.5)·step.
 *
 * Both parameters are stored as fp16, so they are chosen fp16-exact and conservative: `minimum` is the group
 * minimum rounded down, `step` the smallest value rounded up so that minimum + 2^B·step ≥ maximum. Every
 * non-excluded value x then lies in [minimum, minimum + 2^B·step] and |x − x̂| ≤ step/2 holds exactly.
 *
 * Float32 alignment: the reconstruction is written to a Float32Array, and rounding it to float32 could push the
 * error past step/2 (by up to half a float32 ulp) for groups whose range is tiny next to their magnitude. So
 * `minimum` is also a multiple of u = ulp32 of the largest reconstruction magnitude and `step` a multiple of 2u;
 * every x̂ is then exactly representable in float32 and the bound holds for the float32 output too. This lowers
 * minimum by less than u and raises step by less than 2u (or one fp16 increment when coverage needs it): a
 * relative change near 2^-23 of the magnitude, which only matters for ranges far below the magnitude.
 *
 * Degenerate groups (all values equal, or nothing left after exclusions) get step = max(2^-24, 2u): the smallest
 * positive fp16, or two float32 ulps of the value; they reconstruct within step/2 of it.
 *
 * All the arithmetic below is exact in float64: fp16 values are multiples of 2^-24 below 2^16, so
 * minimum + k·step for k ≤ 256 needs fewer than 53 bits.
 */

const scratchFloat64 = new Float64Array(1);
const scratchWords = new Int32Array(scratchFloat64.buffer); // Int32: stays a small integer in V8
const highWordIndex = ((): number => {
  scratchFloat64[0] = 1;
  return scratchWords[1] === 0x3ff00000 ? 1 : 0;
})();

/**
 * The float32 ulp of magnitudes in [2^e, 2^(e+1)) containing `magnitude`: 2^(e−23), read off the float64
 * exponent (magnitude is a normal float64 ≥ 2^-24 here, so e − 23 stays a normal exponent).
 */
function float32UnitAt(magnitude: number): number {
  scratchFloat64[0] = magnitude;
  const exponentField = ((scratchWords[highWordIndex] as number) >>> 20) & 0x7ff;
  scratchFloat64[0] = 0;
  scratchWords[highWordIndex] = (exponentField - 23) << 20;
  return scratchFloat64[0] as number;
}

/**
 * Writes [minimum, step] for the non-excluded values of a group whose buffers were checked. The same pass checks
 * every value (excluded ones too) and throws 'non-finite-value' / 'out-of-fp16-range' before writing anything.
 */
export function scanGroupParameters(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  bits: number,
  excluded: Uint8Array | null | undefined,
  parametersOut: Float32Array,
  parametersOffset: number,
): void {
  scanGroupRange(source, sourceOffset, length, stride, excluded, scannedRange);
  parametersForRange(scannedRange[0] as number, scannedRange[1] as number, bits, parametersOut, parametersOffset);
}

const scannedRange = new Float64Array(2);

/**
 * Writes [low, high] of the non-excluded values of a group whose buffers were checked ([0, 0] when every value is
 * excluded) to rangeOut, checking every value as scanGroupParameters does.
 */
export function scanGroupRange(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  excluded: Uint8Array | null | undefined,
  rangeOut: Float64Array,
): void {
  let low = Infinity;
  let high = -Infinity;
  if ((excluded === null || excluded === undefined) && stride === 1) {
    // The common case (a token group) gets the simplest loop.
    const end = sourceOffset + length;
    for (let position = sourceOffset; position < end; position += 1) {
      const value = source[position] as number;
      if (!(value >= -FLOAT16_MAX && value <= FLOAT16_MAX)) assertGroupValues(source, sourceOffset, length, stride);
      if (value < low) low = value;
      if (value > high) high = value;
    }
  } else if (excluded === null || excluded === undefined) {
    for (let index = 0, position = sourceOffset; index < length; index += 1, position += stride) {
      const value = source[position] as number;
      // False for NaN, ±Infinity and |x| > 65504: rescan to throw the precise error.
      if (!(value >= -FLOAT16_MAX && value <= FLOAT16_MAX)) assertGroupValues(source, sourceOffset, length, stride);
      if (value < low) low = value;
      if (value > high) high = value;
    }
  } else {
    for (let index = 0, position = sourceOffset; index < length; index += 1, position += stride) {
      const value = source[position] as number;
      if (!(value >= -FLOAT16_MAX && value <= FLOAT16_MAX)) assertGroupValues(source, sourceOffset, length, stride);
      if (excluded[index] === 1) continue;
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  if (low === Infinity) {
    // Every element excluded: any parameters reconstruct nothing; pick the zero group.
    low = 0;
    high = 0;
  }
  rangeOut[0] = low;
  rangeOut[1] = high;
}

/**
 * Writes [minimum, step] covering [low, high] (low ≤ high, both within ±65504): fp16-exact and float32-aligned as
 * described above, so every x in [low, high] reconstructs within step/2. Values outside the range clamp to the end
 * codes (what a clipped range relies on, clipped-range.ts).
 */
export function parametersForRange(low: number, high: number, bits: number, parametersOut: Float32Array, parametersOffset: number): void {
  const levels = 1 << bits;
  let minimum = roundDownToFloat16(low);
  let step = Math.max(roundUpToFloat16((high - minimum) / levels), FLOAT16_MIN_POSITIVE);
  // (high − minimum) may have been rounded down in float64; the exact check settles it. With every value within
  // ±65504 (checked by the callers) minimum ≥ −65504 and the loop ends by step = 65504 at the latest.
  while (minimum + levels * step < high) {
    step = nextFloat16Up(step);
  }
  // Float32 alignment (see above). Raising the magnitude can double u once or twice, hence the loop; it only
  // lowers minimum and raises step, so it settles quickly.
  for (;;) {
    const magnitude = Math.max(Math.abs(minimum), Math.abs(minimum + levels * step));
    // Below 2^-1 the unit is at most 2^-25: every fp16 value is already aligned.
    if (magnitude < 0.5) break;
    const unit = float32UnitAt(magnitude);
    const doubleUnit = 2 * unit;
    // A minimum far below the magnitude becomes a multiple of u under 2^11·u: still fp16-exact. Likewise a step
    // under 2^12·u; a larger fp16 step is already a multiple of 2u.
    const alignedMinimum = Math.floor(minimum / unit) * unit;
    let alignedStep = Math.ceil(step / doubleUnit) * doubleUnit;
    while (alignedMinimum + levels * alignedStep < high) alignedStep += doubleUnit;
    if (roundToFloat16(alignedStep) !== alignedStep) alignedStep = roundUpToFloat16(alignedStep);
    if (alignedMinimum === minimum && alignedStep === step) break;
    minimum = alignedMinimum;
    step = alignedStep;
  }
  parametersOut[parametersOffset] = minimum;
  parametersOut[parametersOffset + 1] = step;
}

function nextFloat16Up(positive: number): number {
  return float16BitsToFloat32(float32ToFloat16Bits(positive) + 1);
}
