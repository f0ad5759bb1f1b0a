import { assertPackedBitWidth } from './bit-width.js';
import { validateParameters } from './quantizer.js';
import { assertNonEmptyGroup, assertRange, assertStridedRange } from './validation.js';

/**
 * Hot path, reading side: one group straight from packed bytes (packCodes' layout) to float32 values, with no
 * code buffer in between.
 */

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
  dequantizeWidth(bits, packed, packedByteOffset, length, base, step, target, targetOffset);
}

/** Contiguous output, one group: one small function per width, each tight loop optimized on its own. */
function dequantizeWidth(
  bits: number,
  packed: Uint8Array,
  byteOffset: number,
  length: number,
  base: number,
  step: number,
  target: Float32Array,
  targetOffset: number,
): void {
  switch (bits) {
    case 1:
      dequantize1(packed, byteOffset, length, base, step, target, targetOffset);
      return;
    case 2:
      dequantize2(packed, byteOffset, length, base, step, target, targetOffset);
      return;
    case 3:
      dequantize3(packed, byteOffset, length, base, step, target, targetOffset);
      return;
    case 4:
      dequantize4(packed, byteOffset, length, base, step, target, targetOffset);
      return;
    case 8:
      dequantize8(packed, byteOffset, length, base, step, target, targetOffset);
      return;
    default:
      unpackAndDequantizeStrided(packed, byteOffset, length, bits, base, step, target, targetOffset, 1);
  }
}

/**
 * Consecutive groups of one width, validated by the caller. The width switch sits outside the group loop, so
 * each case's loop has a single callee that V8 can inline and keep hot.
 */
export function dequantizeContiguous(
  packed: Uint8Array,
  byteOffset: number,
  groupCount: number,
  groupLength: number,
  groupBytes: number,
  bits: number,
  parameters: Float32Array,
  parametersOffset: number,
  target: Float32Array,
  targetOffset: number,
): void {
  const parameterEnd = parametersOffset + 2 * groupCount;
  let input = byteOffset;
  let output = targetOffset;
  let parameter = parametersOffset;
  switch (bits) {
    case 8:
      for (; parameter < parameterEnd; parameter += 2, input += groupBytes, output += groupLength) {
        const step = parameters[parameter + 1] as number;
        dequantize8(packed, input, groupLength, (parameters[parameter] as number) + 0.5 * step, step, target, output);
      }
      return;
    case 4:
      for (; parameter < parameterEnd; parameter += 2, input += groupBytes, output += groupLength) {
        const step = parameters[parameter + 1] as number;
        dequantize4(packed, input, groupLength, (parameters[parameter] as number) + 0.5 * step, step, target, output);
      }
      return;
    case 2:
      for (; parameter < parameterEnd; parameter += 2, input += groupBytes, output += groupLength) {
        const step = parameters[parameter + 1] as number;
        dequantize2(packed, input, groupLength, (parameters[parameter] as number) + 0.5 * step, step, target, output);
      }
      return;
    case 3:
      for (; parameter < parameterEnd; parameter += 2, input += groupBytes, output += groupLength) {
        const step = parameters[parameter + 1] as number;
        dequantize3(packed, input, groupLength, (parameters[parameter] as number) + 0.5 * step, step, target, output);
      }
      return;
    default:
      for (; parameter < parameterEnd; parameter += 2, input += groupBytes, output += groupLength) {
        const step = parameters[parameter + 1] as number;
        dequantizeWidth(bits, packed, input, groupLength, (parameters[parameter] as number) + 0.5 * step, step, target, output);
      }
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
