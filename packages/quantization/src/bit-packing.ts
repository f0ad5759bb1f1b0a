import { assertPackedBitWidth } from './bit-width.js';
import { assertRange } from './validation.js';

/**
 * Exact bit packing of B-bit codes (B in 1..8) into bytes as an LSB-first bit stream: code i occupies stream bits
 * [i·B, (i+1)·B), and stream bit j is bit (j mod 8) of byte ⌊j/8⌋. For B = 3, 5, 6, 7 codes straddle bytes.
 * A packed run always starts on a byte boundary and owns packedByteLength(count, bits) bytes; the unused high
 * bits of its last byte are written as 0.
 */

/** Bytes needed for `count` codes of `bits` bits: ⌈count·bits/8⌉. */
export function packedByteLength(count: number, bits: number): number {
  assertPackedBitWidth(bits);
  assertRange('count', { length: Number.MAX_SAFE_INTEGER }, 0, count);
  return Math.ceil((count * bits) / 8);
}

/**
 * Packs `count` codes from `codes[codesOffset…]` into `target` from `targetByteOffset`. Only the low `bits` bits
 * of each code are kept (callers pass codes < 2^bits). No allocation.
 */
export function packCodes(
  codes: Uint8Array,
  codesOffset: number,
  count: number,
  bits: number,
  target: Uint8Array,
  targetByteOffset: number,
): void {
  assertPackedBitWidth(bits);
  assertRange('codes', codes, codesOffset, count);
  assertRange('target', target, targetByteOffset, Math.ceil((count * bits) / 8));
  packCodesUnchecked(codes, codesOffset, count, bits, target, targetByteOffset);
}

/** Unpacks `count` codes from `source` at `sourceByteOffset` into `target[targetOffset…]`. No allocation. */
export function unpackCodes(
  source: Uint8Array,
  sourceByteOffset: number,
  count: number,
  bits: number,
  target: Uint8Array,
  targetOffset: number,
): void {
  assertPackedBitWidth(bits);
  assertRange('source', source, sourceByteOffset, Math.ceil((count * bits) / 8));
  assertRange('target', target, targetOffset, count);
  unpackCodesUnchecked(source, sourceByteOffset, count, bits, target, targetOffset);
}

/** packCodes without the argument checks. */
export function packCodesUnchecked(
  codes: Uint8Array,
  codesOffset: number,
  count: number,
  bits: number,
  target: Uint8Array,
  targetByteOffset: number,
): void {
  let input = codesOffset;
  let output = targetByteOffset;
  const end = codesOffset + count;
  if (bits === 8) {
    for (; input < end; input += 1) {
      target[output++] = codes[input] as number;
    }
    return;
  }
  if (bits === 4) {
    for (; input + 1 < end; input += 2) {
      target[output++] = ((codes[input] as number) & 0x0f) | (((codes[input + 1] as number) & 0x0f) << 4);
    }
    if (input < end) {
      target[output] = (codes[input] as number) & 0x0f;
    }
    return;
  }
  if (bits === 2) {
    for (; input + 3 < end; input += 4) {
      target[output++] =
        ((codes[input] as number) & 3) |
        (((codes[input + 1] as number) & 3) << 2) |
        (((codes[input + 2] as number) & 3) << 4) |
        (((codes[input + 3] as number) & 3) << 6);
    }
  } else if (bits === 1) {
    for (; input + 7 < end; input += 8) {
      target[output++] =
        ((codes[input] as number) & 1) |
        (((codes[input + 1] as number) & 1) << 1) |
        (((codes[input + 2] as number) & 1) << 2) |
        (((codes[input + 3] as number) & 1) << 3) |
        (((codes[input + 4] as number) & 1) << 4) |
        (((codes[input + 5] as number) & 1) << 5) |
        (((codes[input + 6] as number) & 1) << 6) |
        (((codes[input + 7] as number) & 1) << 7);
    }
  }
  // General bit stream (and the tail of the 1- and 2-bit fast paths, which end on a byte boundary).
  const mask = (1 << bits) - 1;
  let accumulator = 0;
  let accumulatedBits = 0;
  for (; input < end; input += 1) {
    accumulator |= ((codes[input] as number) & mask) << accumulatedBits;
    accumulatedBits += bits;
    if (accumulatedBits >= 8) {
      target[output++] = accumulator & 0xff;
      accumulator >>>= 8;
      accumulatedBits -= 8;
    }
  }
  if (accumulatedBits > 0) {
    target[output] = accumulator;
  }
}

/** unpackCodes without the argument checks. */
export function unpackCodesUnchecked(
  source: Uint8Array,
  sourceByteOffset: number,
  count: number,
  bits: number,
  target: Uint8Array,
  targetOffset: number,
): void {
  let input = sourceByteOffset;
  let output = targetOffset;
  const end = targetOffset + count;
  if (bits === 8) {
    for (; output < end; output += 1) {
      target[output] = source[input++] as number;
    }
    return;
  }
  if (bits === 4) {
    for (; output + 1 < end; output += 2) {
      const byte = source[input++] as number;
      target[output] = byte & 0x0f;
      target[output + 1] = byte >>> 4;
    }
    if (output < end) {
      target[output] = (source[input] as number) & 0x0f;
    }
    return;
  }
  if (bits === 2) {
    for (; output + 3 < end; output += 4) {
      const byte = source[input++] as number;
      target[output] = byte & 3;
      target[output + 1] = (byte >>> 2) & 3;
      target[output + 2] = (byte >>> 4) & 3;
      target[output + 3] = byte >>> 6;
    }
  } else if (bits === 1) {
    for (; output + 7 < end; output += 8) {
      const byte = source[input++] as number;
      target[output] = byte & 1;
      target[output + 1] = (byte >>> 1) & 1;
      target[output + 2] = (byte >>> 2) & 1;
      target[output + 3] = (byte >>> 3) & 1;
      target[output + 4] = (byte >>> 4) & 1;
      target[output + 5] = (byte >>> 5) & 1;
      target[output + 6] = (byte >>> 6) & 1;
      target[output + 7] = byte >>> 7;
    }
  }
  const mask = (1 << bits) - 1;
  let accumulator = 0;
  let accumulatedBits = 0;
  for (; output < end; output += 1) {
    if (accumulatedBits < bits) {
      accumulator |= (source[input++] as number) << accumulatedBits;
      accumulatedBits += 8;
    }
    target[output] = accumulator & mask;
    accumulator >>>= bits;
    accumulatedBits -= bits;
  }
}
