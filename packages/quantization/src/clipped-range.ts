import { QaqError } from '@qaq/errors';
import { parametersForRange, scanGroupRange } from './group-parameters.js';

/**
 * How a group's quantization range is chosen: 'min-max' covers every value (|x − x̂| ≤ step/2 for each one, the
 * paper's quantizer), 'least-squares' clips the range around its midpoint when that lowers the group's summed
 * squared error (values beyond it take the end codes). At 2 bits min–max spends a quarter of its levels on the few
 * extreme values of a bell-shaped group: clipping cuts the squared error of Gaussian groups of 192 by 25–35 % at
 * 2 bits and 11–14 % at 3 bits (bench/clipped-range.ts measures it).
 */
export type GroupRange = 'min-max' | 'least-squares';

export const groupRanges: readonly GroupRange[] = Object.freeze(['min-max', 'least-squares']);

/** Throws QaqError('invalid-argument') unless `range` is a GroupRange. */
export function assertGroupRange(range: unknown): asserts range is GroupRange {
  if (!groupRanges.includes(range as GroupRange)) {
    throw new QaqError('invalid-argument', `range must be 'min-max' or 'least-squares', got ${String(range)}`, { details: { range } });
  }
}

// Fractions of the min–max half-range tried per bit width, widest first (ties keep the wider range): down to half
// the range at 1–2 bits, 0.7 at 3, 0.85 at 4. From 5 bits on min–max is kept: clipping saved only 3–4 % of the
// squared error at 4 bits (bench/clipped-range.ts).
const CANDIDATE_FRACTIONS: readonly (readonly number[])[] = [
  [1],
  [1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5],
  [1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5],
  [1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7],
  [1, 0.95, 0.9, 0.85],
];

const candidate = new Float32Array(2);
const groupRange = new Float64Array(2);

/**
 * Writes [minimum, step] for the group (fp16-exact, float32-aligned, as scanGroupParameters) that give the least
 * summed squared error over the non-excluded values among the candidate clipped ranges, the min–max range
 * included. Same checks and errors as scanGroupParameters, thrown before anything is written.
 */
export function searchClippedParameters(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  bits: number,
  excluded: Uint8Array | null | undefined,
  parametersOut: Float32Array,
  parametersOffset: number,
): void {
  scanGroupRange(source, sourceOffset, length, stride, excluded, groupRange);
  const low = groupRange[0] as number;
  const high = groupRange[1] as number;
  // The min–max parameters are the first candidate (and the answer when there is nothing to clip).
  parametersForRange(low, high, bits, parametersOut, parametersOffset);
  const fractions = CANDIDATE_FRACTIONS[bits] ?? CANDIDATE_FRACTIONS[0]!;
  if (fractions.length === 1 || !(high > low)) return;
  const center = (low + high) / 2;
  const half = (high - low) / 2;
  let bestError = squaredError(source, sourceOffset, length, stride, bits, excluded, parametersOut[parametersOffset] as number, parametersOut[parametersOffset + 1] as number);
  for (let index = 1; index < fractions.length; index += 1) {
    const reach = half * (fractions[index] as number);
    parametersForRange(center - reach, center + reach, bits, candidate, 0);
    const error = squaredError(source, sourceOffset, length, stride, bits, excluded, candidate[0] as number, candidate[1] as number);
    if (error < bestError) {
      bestError = error;
      parametersOut[parametersOffset] = candidate[0] as number;
      parametersOut[parametersOffset + 1] = candidate[1] as number;
    }
  }
}

/** Σ (x − x̂)² over the non-excluded values with codes clamped to [0, 2^B − 1]. */
export function squaredError(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  bits: number,
  excluded: Uint8Array | null | undefined,
  minimum: number,
  step: number,
): number {
  const maximumCode = (1 << bits) - 1;
  const inverseStep = 1 / step;
  let sum = 0;
  for (let index = 0, position = sourceOffset; index < length; index += 1, position += stride) {
    if (excluded !== null && excluded !== undefined && excluded[index] === 1) continue;
    const value = source[position] as number;
    let code = Math.floor((value - minimum) * inverseStep);
    code = code < 0 ? 0 : code > maximumCode ? maximumCode : code;
    const difference = value - (minimum + (code + 0.5) * step);
    sum += difference * difference;
  }
  return sum;
}
