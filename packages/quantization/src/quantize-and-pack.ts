import { assertGroupRange, searchClippedParameters, type GroupRange } from './clipped-range.js';
import { scanGroupParameters } from './group-parameters.js';
import { codeOf, validateOutputRange, validateQuantizeInput } from './quantizer.js';

/**
 * Hot path, writing side: one group straight from float32 values to packed bytes, with no code buffer in between.
 * Byte layout is exactly packCodes' (LSB-first bit stream starting on a byte boundary), so a group written here
 * reads back with unpackCodes + dequantizeGroup, or unpackAndDequantizeGroup.
 */

/**
 * quantizeGroup followed by packCodes, fused. Writes packedByteLength(length, bits) bytes at
 * packedOut[packedByteOffset…] and [minimum, step] at parametersOut[parametersOffset…+1].
 * Same validation and errors as quantizeGroup; nothing is written on error. `range` 'least-squares' clips the range
 * when that lowers the squared error (clipped-range.ts); the default 'min-max' covers every value.
 */
export function quantizeAndPackGroup(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  bits: number,
  packedOut: Uint8Array,
  packedByteOffset: number,
  parametersOut: Float32Array,
  parametersOffset: number,
  excluded?: Uint8Array | null,
  range: GroupRange = 'min-max',
): void {
  validateQuantizeInput(source, sourceOffset, length, stride, bits, parametersOut, parametersOffset, excluded);
  assertGroupRange(range);
  validateOutputRange('packedOut', packedOut, packedByteOffset, Math.ceil((length * bits) / 8));
  if (range === 'least-squares') {
    searchClippedParameters(source, sourceOffset, length, stride, bits, excluded, parametersOut, parametersOffset);
  } else {
    scanGroupParameters(source, sourceOffset, length, stride, bits, excluded, parametersOut, parametersOffset);
  }
  const minimum = parametersOut[parametersOffset] as number;
  const step = parametersOut[parametersOffset + 1] as number;
  const inverseStep = 1 / step;
  if (bits === 4 && stride === 1) {
    pack4(source, sourceOffset, length, minimum, step, inverseStep, packedOut, packedByteOffset);
  } else if (bits === 8) {
    pack8(source, sourceOffset, length, stride, minimum, step, inverseStep, packedOut, packedByteOffset);
  } else {
    packGeneral(source, sourceOffset, length, stride, bits, minimum, step, inverseStep, packedOut, packedByteOffset);
  }
}

function pack4(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  minimum: number,
  step: number,
  inverseStep: number,
  packedOut: Uint8Array,
  packedByteOffset: number,
): void {
  const pairs = length >>> 1;
  for (let pair = 0; pair < pairs; pair += 1) {
    const input = sourceOffset + 2 * pair;
    packedOut[packedByteOffset + pair] =
      codeOf(source[input] as number, minimum, step, inverseStep, 15) |
      (codeOf(source[input + 1] as number, minimum, step, inverseStep, 15) << 4);
  }
  if (length & 1) {
    packedOut[packedByteOffset + pairs] = codeOf(source[sourceOffset + length - 1] as number, minimum, step, inverseStep, 15);
  }
}

function pack8(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  minimum: number,
  step: number,
  inverseStep: number,
  packedOut: Uint8Array,
  packedByteOffset: number,
): void {
  for (let index = 0; index < length; index += 1) {
    packedOut[packedByteOffset + index] = codeOf(source[sourceOffset + index * stride] as number, minimum, step, inverseStep, 255);
  }
}

/** Any width and stride: an LSB-first bit accumulator, flushed a byte at a time. */
function packGeneral(
  source: Float32Array,
  sourceOffset: number,
  length: number,
  stride: number,
  bits: number,
  minimum: number,
  step: number,
  inverseStep: number,
  packedOut: Uint8Array,
  packedByteOffset: number,
): void {
  const maximumCode = (1 << bits) - 1;
  let output = packedByteOffset;
  let accumulator = 0;
  let accumulatedBits = 0;
  for (let index = 0, position = sourceOffset; index < length; index += 1, position += stride) {
    accumulator |= codeOf(source[position] as number, minimum, step, inverseStep, maximumCode) << accumulatedBits;
    accumulatedBits += bits;
    if (accumulatedBits >= 8) {
      packedOut[output++] = accumulator & 0xff;
      accumulator >>>= 8;
      accumulatedBits -= 8;
    }
  }
  if (accumulatedBits > 0) {
    packedOut[output] = accumulator;
  }
}
