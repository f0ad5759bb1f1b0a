import { scanGroupParameters } from './group-parameters.js';
import { codeOf, validateOutputRange, validateParameters, validateQuantizeInput } from './quantizer.js';
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
  validateOutputRange('packedOut', packedOut, packedByteOffset, Math.ceil((length * bits) / 8));
  scanGroupParameters(source, sourceOffset, length, stride, bits, excluded, parametersOut, parametersOffset);
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
  if (
    !(
      bits >= 1 &&
      bits <= 8 &&
      (bits | 0) === bits &&
      length >= 1 &&
      length >>> 0 === length &&
      minimum - minimum === 0 &&
      step > 0 &&
      step < Infinity &&
      packedByteOffset >>> 0 === packedByteOffset &&
      packedByteOffset + Math.ceil((length * bits) / 8) <= packed.length &&
      targetStride >= 1 &&
      targetStride >>> 0 === targetStride &&
      targetOffset >>> 0 === targetOffset &&
      targetOffset + (length - 1) * targetStride < target.length
    )
  ) {
    // Name what is wrong (each check throws its own error).
    assertPackedBitWidth(bits);
    assertNonEmptyGroup(length);
    validateParameters(minimum, step);
    assertRange('packed', packed, packedByteOffset, Math.ceil((length * bits) / 8));
    assertStridedRange('target', target, targetOffset, length, targetStride);
  }
  const base = minimum + 0.5 * step;
  if (targetStride !== 1) {
    unpackAndDequantizeStrided(packed, packedByteOffset, length, bits, base, step, target, targetOffset, targetStride);
    return;
  }
  // One small function per width behind this switch: each tight loop is optimized on its own (measured about
  // twice as fast as one function holding every loop).
  switch (bits) {
    case 1:
      dequantize1(packed, packedByteOffset, length, base, step, target, targetOffset);
      return;
    case 2:
      dequantize2(packed, packedByteOffset, length, base, step, target, targetOffset);
      return;
    case 3:
      dequantize3(packed, packedByteOffset, length, base, step, target, targetOffset);
      return;
    case 4:
      dequantize4(packed, packedByteOffset, length, base, step, target, targetOffset);
      return;
    case 8:
      dequantize8(packed, packedByteOffset, length, base, step, target, targetOffset);
      return;
    default:
      unpackAndDequantizeStrided(packed, packedByteOffset, length, bits, base, step, target, targetOffset, 1);
  }
}

/* Each fast loop leaves its tail (codes short of a whole byte or block) to a short loop of its own. */

function dequantize8(packed: Uint8Array, byteOffset: number, length: number, base: number, step: number, target: Float32Array, targetOffset: number): void {
  // Unrolled by 4: the loop overhead is a large share of so little work per element.
  const quads = length >>> 2;
  let input = byteOffset;
  let output = targetOffset;
  for (let quad = 0; quad < quads; quad += 1) {
    target[output] = base + (packed[input] as number) * step;
    target[output + 1] = base + (packed[input + 1] as number) * step;
    target[output + 2] = base + (packed[input + 2] as number) * step;
    target[output + 3] = base + (packed[input + 3] as number) * step;
    input += 4;
    output += 4;
  }
  for (let index = 4 * quads; index < length; index += 1) {
    target[targetOffset + index] = base + (packed[byteOffset + index] as number) * step;
  }
}

function dequantize4(packed: Uint8Array, byteOffset: number, length: number, base: number, step: number, target: Float32Array, targetOffset: number): void {
  // Two bytes (four codes) per iteration; the remaining 0..3 codes after.
  const pairsOfBytes = length >>> 2;
  let input = byteOffset;
  let output = targetOffset;
  for (let pair = 0; pair < pairsOfBytes; pair += 1) {
    const low = packed[input] as number;
    const high = packed[input + 1] as number;
    target[output] = base + (low & 0x0f) * step;
    target[output + 1] = base + (low >>> 4) * step;
    target[output + 2] = base + (high & 0x0f) * step;
    target[output + 3] = base + (high >>> 4) * step;
    input += 2;
    output += 4;
  }
  for (let index = 4 * pairsOfBytes; index < length; index += 1) {
    const byte = packed[byteOffset + (index >>> 1)] as number;
    target[targetOffset + index] = base + ((index & 1 ? byte >>> 4 : byte) & 0x0f) * step;
  }
}

function dequantize2(packed: Uint8Array, byteOffset: number, length: number, base: number, step: number, target: Float32Array, targetOffset: number): void {
  const quads = length >>> 2;
  for (let quad = 0; quad < quads; quad += 1) {
    const byte = packed[byteOffset + quad] as number;
    const output = targetOffset + 4 * quad;
    target[output] = base + (byte & 3) * step;
    target[output + 1] = base + ((byte >>> 2) & 3) * step;
    target[output + 2] = base + ((byte >>> 4) & 3) * step;
    target[output + 3] = base + (byte >>> 6) * step;
  }
  const done = 4 * quads;
  if (done < length) {
    unpackAndDequantizeStrided(packed, byteOffset + quads, length - done, 2, base, step, target, targetOffset + done, 1);
  }
}

function dequantize1(packed: Uint8Array, byteOffset: number, length: number, base: number, step: number, target: Float32Array, targetOffset: number): void {
  const octets = length >>> 3;
  const high = base + step;
  for (let octet = 0; octet < octets; octet += 1) {
    const byte = packed[byteOffset + octet] as number;
    const output = targetOffset + 8 * octet;
    target[output] = byte & 1 ? high : base;
    target[output + 1] = byte & 2 ? high : base;
    target[output + 2] = byte & 4 ? high : base;
    target[output + 3] = byte & 8 ? high : base;
    target[output + 4] = byte & 16 ? high : base;
    target[output + 5] = byte & 32 ? high : base;
    target[output + 6] = byte & 64 ? high : base;
    target[output + 7] = byte & 128 ? high : base;
  }
  const done = 8 * octets;
  if (done < length) {
    unpackAndDequantizeStrided(packed, byteOffset + octets, length - done, 1, base, step, target, targetOffset + done, 1);
  }
}

function dequantize3(packed: Uint8Array, byteOffset: number, length: number, base: number, step: number, target: Float32Array, targetOffset: number): void {
  // 8 codes in 3 bytes.
  const blocks = length >>> 3;
  for (let block = 0; block < blocks; block += 1) {
    const input = byteOffset + 3 * block;
    const word = (packed[input] as number) | ((packed[input + 1] as number) << 8) | ((packed[input + 2] as number) << 16);
    const output = targetOffset + 8 * block;
    target[output] = base + (word & 7) * step;
    target[output + 1] = base + ((word >>> 3) & 7) * step;
    target[output + 2] = base + ((word >>> 6) & 7) * step;
    target[output + 3] = base + ((word >>> 9) & 7) * step;
    target[output + 4] = base + ((word >>> 12) & 7) * step;
    target[output + 5] = base + ((word >>> 15) & 7) * step;
    target[output + 6] = base + ((word >>> 18) & 7) * step;
    target[output + 7] = base + (word >>> 21) * step;
  }
  const done = 8 * blocks;
  if (done < length) {
    unpackAndDequantizeStrided(packed, byteOffset + 3 * blocks, length - done, 3, base, step, target, targetOffset + done, 1);
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
