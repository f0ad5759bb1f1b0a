/**
 * bitsForRange from @qaq/quantization without the per-call argument checks and logarithm, for the policy's
 * per-group hot loop. Same result for every input the policy passes (range ≥ 0 finite, allowedStd > 0 or
 * +Infinity, valid widths): the fewest B ≥ minBits with 2^B ≥ range / (√12 · allowedStd), more than 8 → maxBits,
 * clamped to maxBits. A property test checks equality with bitsForRange.
 */
const SQRT_12 = Math.sqrt(12);
const POWERS_OF_TWO = Float64Array.from({ length: 9 }, (_, exponent) => 2 ** exponent);

export function fastBitsForRange(range: number, allowedStd: number, minBits: number, maxBits: number): number {
  if (range === 0 || allowedStd === Number.POSITIVE_INFINITY) return minBits;
  if (allowedStd <= 0) return maxBits;
  const ratio = range / (SQRT_12 * allowedStd);
  let bits = minBits;
  while (bits <= 8 && (POWERS_OF_TWO[bits] as number) < ratio) bits += 1;
  if (bits > 8) return maxBits;
  return bits <= maxBits ? bits : maxBits;
}
