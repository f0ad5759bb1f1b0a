import { computeGroupParametersUnchecked } from './group-parameters.js';
import { codeOf, validateParameters, validateQuantizeInput } from './quantizer.js';
import { assertPackedBitWidth } from './bit-width.js';
import { assertNonEmptyGroup, assertRange, assertStridedRange } from './validation.js';

/**
 * The hot path: one group straight between float32 values and packed bytes, with no code buffer in between.
 * Byte layout is exactly packCodes' (LSB-first bit stream starting on a byte boundary), so a group written here
 * reads back with unpackCodes + dequantizeGroup and vice versa.
 */

/**
 * quantizeGroup followed by packCodes, fused. Writes packedByteLength(length, bits) bytes at
 * packedOut[packedByteOffset…] and [minimum, step] at parametersOut[parametersOffset…+1].
 * Same validation and errors as quantizeGroup; nothing is written on error.
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
): void {
  validateQuantizeInput(source, sourceOffset, length, stride, bits, parametersOut, parametersOffset, excluded);
  assertRange('packedOut', packedOut, packedByteOffset, Math.ceil((length * bits) / 8));
  computeGroupParametersUnchecked(source, sourceOffset, length, stride, bits, excluded, parametersOut, parametersOffset);
  const minimum = parametersOut[parametersOffset] as number;
  const step = parametersOut[parametersOffset + 1] as number;
  const inverseStep = 1 / step;
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

/**
 * unpackCodes followed by dequantizeGroup, fused: target[targetOffset + i·targetStride] =
 * minimum + (code_i + 0.5)·step for the `length` codes packed at packed[packedByteOffset…].
 */
export function unpackAndDequantizeGroup(
  packed: Uint8Array,
  packedByteOffset: number,
  length: number,
  bits: number,
  minimum: number,
  step: number,
  target: Float32Array,
  targetOffset: number,
  targetStride: number = 1,
): void {
  assertPackedBitWidth(bits);
  assertNonEmptyGroup(length);
  validateParameters(minimum, step);
  assertRange('packed', packed, packedByteOffset, Math.ceil((length * bits) / 8));
  assertStridedRange('target', target, targetOffset, length, targetStride);
  const base = minimum + 0.5 * step;
  if (targetStride === 1) {
    unpackAndDequantizeContiguous(packed, packedByteOffset, length, bits, base, step, target, targetOffset);
  } else {
    unpackAndDequantizeStrided(packed, packedByteOffset, length, bits, base, step, target, targetOffset, targetStride);
  }
}

function unpackAndDequantizeContiguous(
  packed: Uint8Array,
  byteOffset: number,
  length: number,
  bits: number,
  base: number,
  step: number,
  target: Float32Array,
  targetOffset: number,
): void {
  let input = byteOffset;
  let output = targetOffset;
  const end = targetOffset + length;
  switch (bits) {
    case 8:
      for (; output < end; output += 1) {
        target[output] = base + (packed[input++] as number) * step;
      }
      return;
    case 4:
      for (; output + 1 < end; output += 2) {
        const byte = packed[input++] as number;
        target[output] = base + (byte & 0x0f) * step;
        target[output + 1] = base + (byte >>> 4) * step;
      }
      break;
    case 2:
      for (; output + 3 < end; output += 4) {
        const byte = packed[input++] as number;
        target[output] = base + (byte & 3) * step;
        target[output + 1] = base + ((byte >>> 2) & 3) * step;
        target[output + 2] = base + ((byte >>> 4) & 3) * step;
        target[output + 3] = base + (byte >>> 6) * step;
      }
      break;
    case 1:
      for (; output + 7 < end; output += 8) {
        const byte = packed[input++] as number;
        target[output] = base + (byte & 1) * step;
        target[output + 1] = base + ((byte >>> 1) & 1) * step;
        target[output + 2] = base + ((byte >>> 2) & 1) * step;
        target[output + 3] = base + ((byte >>> 3) & 1) * step;
        target[output + 4] = base + ((byte >>> 4) & 1) * step;
        target[output + 5] = base + ((byte >>> 5) & 1) * step;
        target[output + 6] = base + ((byte >>> 6) & 1) * step;
        target[output + 7] = base + (byte >>> 7) * step;
      }
      break;
    case 3:
      // 8 codes in 3 bytes.
      for (; output + 7 < end; output += 8) {
        const word = (packed[input] as number) | ((packed[input + 1] as number) << 8) | ((packed[input + 2] as number) << 16);
        input += 3;
        target[output] = base + (word & 7) * step;
        target[output + 1] = base + ((word >>> 3) & 7) * step;
        target[output + 2] = base + ((word >>> 6) & 7) * step;
        target[output + 3] = base + ((word >>> 9) & 7) * step;
        target[output + 4] = base + ((word >>> 12) & 7) * step;
        target[output + 5] = base + ((word >>> 15) & 7) * step;
        target[output + 6] = base + ((word >>> 18) & 7) * step;
        target[output + 7] = base + (word >>> 21) * step;
      }
      break;
    default:
      break;
  }
  // General bit stream for 5, 6, 7 bits and every fast path's tail (which starts on a byte boundary).
  const mask = (1 << bits) - 1;
  let accumulator = 0;
  let accumulatedBits = 0;
  for (; output < end; output += 1) {
    if (accumulatedBits < bits) {
      accumulator |= (packed[input++] as number) << accumulatedBits;
      accumulatedBits += 8;
    }
    target[output] = base + (accumulator & mask) * step;
    accumulator >>>= bits;
    accumulatedBits -= bits;
  }
}

function unpackAndDequantizeStrided(
  packed: Uint8Array,
  byteOffset: number,
  length: number,
  bits: number,
  base: number,
  step: number,
  target: Float32Array,
  targetOffset: number,
  targetStride: number,
): void {
  const mask = (1 << bits) - 1;
  let input = byteOffset;
  let accumulator = 0;
  let accumulatedBits = 0;
  for (let index = 0, position = targetOffset; index < length; index += 1, position += targetStride) {
    if (accumulatedBits < bits) {
      accumulator |= (packed[input++] as number) << accumulatedBits;
      accumulatedBits += 8;
    }
    target[position] = base + (accumulator & mask) * step;
    accumulator >>>= bits;
    accumulatedBits -= bits;
  }
}
