import { QaqError } from '@qaq/errors';
import { assertPackedBitWidth } from './bit-width.js';
import { scanGroupParameters } from './group-parameters.js';
import { assertNonEmptyGroup, assertRange, assertStridedRange } from './validation.js';

/**
 * One group at a time, caller-provided outputs, strided source: a token group is stride 1, a channel group over
 * token-major data is stride D. See group-parameters.ts for how [minimum, step] are chosen and the error bound.
 */

/**
 * Checks shared by every quantizing entry point (values themselves are checked by scanGroupParameters); throws
 * before anything is written. The common all-good case is one inlined condition; the precise checks below it
 * run only to name what is wrong.
 */
export function validateQuantizeInput(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  bits: number,
  parametersOut: Float32Array,
  parametersOffset: number,
  excluded: Uint8Array | null | undefined,
): void {
  if (
    bits >= 1 &&
    bits <= 8 &&
    (bits | 0) === bits &&
    length >= 1 &&
    length >>> 0 === length &&
    stride >= 1 &&
    stride >>> 0 === stride &&
    sourceOffset >>> 0 === sourceOffset &&
    sourceOffset + (length - 1) * stride < source.length &&
    parametersOffset >>> 0 === parametersOffset &&
    parametersOffset + 2 <= parametersOut.length &&
    (excluded === null || excluded === undefined || excluded.length >= length)
  ) {
    return;
  }
  assertPackedBitWidth(bits);
  assertNonEmptyGroup(length);
  assertStridedRange('source', source, sourceOffset, length, stride);
  assertRange('parametersOut', parametersOut, parametersOffset, 2);
  if (excluded !== null && excluded !== undefined) {
    assertRange('excluded', excluded, 0, length);
  }
}

/** Fast check that `count` contiguous elements from `offset` fit; the precise error otherwise. */
export function validateOutputRange(name: string, buffer: Uint8Array, offset: number, count: number): void {
  if (!(offset >>> 0 === offset && offset + count <= buffer.length)) {
    assertRange(name, buffer, offset, count);
  }
}

/** Checks the stored parameters a dequantizing entry point receives. */
export function validateParameters(minimum: number, step: number): void {
  if (!(minimum - minimum === 0 && step > 0 && step < Infinity)) {
    throw new QaqError('invalid-parameters', `minimum must be finite and step finite and positive, got ${minimum}, ${step}`, {
      details: { minimum, step },
    });
  }
}

/**
 * The code of `value` for a group: the segment ⌊(value − minimum)/step⌋ clamped to [0, 2^B − 1]. The float64
 * division is only a guess; one exact comparison against the segment's edges fixes an off-by-one from rounding,
 * so value ∈ [minimum + code·step, minimum + (code+1)·step] whenever value is inside the group range.
 */
export function codeOf(value: number, minimum: number, step: number, inverseStep: number, maximumCode: number): number {
  let code = Math.floor((value - minimum) * inverseStep);
  if (code < 0) {
    code = 0;
  } else if (code > maximumCode) {
    code = maximumCode;
  }
  const lowerEdge = minimum + code * step;
  if (value < lowerEdge) {
    if (code > 0) code -= 1;
  } else if (value >= lowerEdge + step && code < maximumCode) {
    code += 1;
  }
  return code;
}

/**
 * Computes [minimum, step] for a group (non-excluded elements only) into parametersOut[parametersOffset…+1]
 * without producing codes. Same validation as quantizeGroup.
 */
export function computeGroupParameters(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  bits: number,
  parametersOut: Float32Array,
  parametersOffset: number,
  excluded?: Uint8Array | null,
): void {
  validateQuantizeInput(source, sourceOffset, length, stride, bits, parametersOut, parametersOffset, excluded);
  scanGroupParameters(source, sourceOffset, length, stride, bits, excluded, parametersOut, parametersOffset);
}

/**
 * Quantizes `length` elements source[sourceOffset + i·stride] to one code per byte in codesOut[codesOffset + i]
 * and writes [minimum, step] (fp16-exact) to parametersOut[parametersOffset…+1].
 * `excluded[i] === 1` leaves element i out of the range (e.g. an outlier kept elsewhere); its code is still
 * written, clamped to [0, 2^B − 1].
 * Errors (nothing written): 'invalid-bit-width', 'empty-group', 'out-of-bounds', 'non-finite-value',
 * 'out-of-fp16-range'.
 */
export function quantizeGroup(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  bits: number,
  codesOut: Uint8Array,
  codesOffset: number,
  parametersOut: Float32Array,
  parametersOffset: number,
  excluded?: Uint8Array | null,
): void {
  validateQuantizeInput(source, sourceOffset, length, stride, bits, parametersOut, parametersOffset, excluded);
  validateOutputRange('codesOut', codesOut, codesOffset, length);
  scanGroupParameters(source, sourceOffset, length, stride, bits, excluded, parametersOut, parametersOffset);
  const minimum = parametersOut[parametersOffset] as number;
  const step = parametersOut[parametersOffset + 1] as number;
  const inverseStep = 1 / step;
  const maximumCode = (1 << bits) - 1;
  for (let index = 0, position = sourceOffset; index < length; index += 1, position += stride) {
    codesOut[codesOffset + index] = codeOf(source[position] as number, minimum, step, inverseStep, maximumCode);
  }
}

/**
 * Reconstructs `length` elements target[targetOffset + i·targetStride] = minimum + (codes[codesOffset + i] + 0.5)·step.
 * The sum is exact in float64 for fp16 parameters; the only rounding is the final store into float32.
 */
export function dequantizeGroup(
  codes: Uint8Array,
  codesOffset: number,
  length: number,
  minimum: number,
  step: number,
  target: Float32Array,
  targetOffset: number,
  targetStride: number = 1,
): void {
  assertNonEmptyGroup(length);
  validateParameters(minimum, step);
  assertRange('codes', codes, codesOffset, length);
  assertStridedRange('target', target, targetOffset, length, targetStride);
  const base = minimum + 0.5 * step;
  for (let index = 0, position = targetOffset; index < length; index += 1, position += targetStride) {
    target[position] = base + (codes[codesOffset + index] as number) * step;
  }
}
