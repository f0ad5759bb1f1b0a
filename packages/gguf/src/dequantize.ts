import { checkTargetRange, checkedBlockCount, scaleMinK4, unsupportedTensorType } from './block-arguments.js';
import { bfloat16ToFloat, halfToFloatTable } from './half-float.js';
import { GgufTensorType } from './tensor-types.js';

/**
 * Decodes `elementCount` elements of `type` from `source` into target[targetOffset …] with the
 * arithmetic of ggml's dequantize_row_* in fp32 (every product below is exact in fp32; JS doubles
 * rounded once to fp32 on store give the same bits as ggml's fp32 ops).
 * Supports F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K; any other type
 * throws QaqError('unsupported-tensor-type').
 */
export function dequantize(
  type: GgufTensorType,
  source: Uint8Array,
  elementCount: number,
  target: Float32Array,
  targetOffset = 0,
): void {
  const { blockCount } = checkedBlockCount(type, source, elementCount, 'dequantize');
  checkTargetRange(target.length, targetOffset, elementCount, 'target', 'dequantize');
  switch (type) {
    case GgufTensorType.F32:
      return dequantizeF32(source, blockCount, target, targetOffset);
    case GgufTensorType.F16:
      return dequantizeF16(source, blockCount, target, targetOffset);
    case GgufTensorType.BF16:
      return dequantizeBF16(source, blockCount, target, targetOffset);
    case GgufTensorType.Q4_0:
      return dequantizeQ4(source, blockCount, target, targetOffset, false);
    case GgufTensorType.Q4_1:
      return dequantizeQ4(source, blockCount, target, targetOffset, true);
    case GgufTensorType.Q5_0:
      return dequantizeQ5(source, blockCount, target, targetOffset, false);
    case GgufTensorType.Q5_1:
      return dequantizeQ5(source, blockCount, target, targetOffset, true);
    case GgufTensorType.Q8_0:
      return dequantizeQ8_0(source, blockCount, target, targetOffset);
    case GgufTensorType.Q4_K:
      return dequantizeQ4K(source, blockCount, target, targetOffset);
    case GgufTensorType.Q5_K:
      return dequantizeQ5K(source, blockCount, target, targetOffset);
    case GgufTensorType.Q6_K:
      return dequantizeQ6K(source, blockCount, target, targetOffset);
    case GgufTensorType.Q8_K:
      return dequantizeQ8K(source, blockCount, target, targetOffset);
    default:
      throw unsupportedTensorType(type, 'dequantize');
  }
}

function half(table: Float32Array, bytes: Uint8Array, offset: number): number {
  return table[(bytes[offset] as number) | ((bytes[offset + 1] as number) << 8)] as number;
}

function dequantizeF32(source: Uint8Array, count: number, target: Float32Array, start: number): void {
  const view = new DataView(source.buffer, source.byteOffset, count * 4);
  for (let index = 0; index < count; index++) target[start + index] = view.getFloat32(index * 4, true);
}

function dequantizeF16(source: Uint8Array, count: number, target: Float32Array, start: number): void {
  const table = halfToFloatTable();
  for (let index = 0; index < count; index++) target[start + index] = half(table, source, index * 2);
}

function dequantizeBF16(source: Uint8Array, count: number, target: Float32Array, start: number): void {
  for (let index = 0; index < count; index++) {
    target[start + index] = bfloat16ToFloat((source[index * 2] as number) | ((source[index * 2 + 1] as number) << 8));
  }
}

// Q4_0: d f16, 16 bytes of nibbles; Q4_1 adds m f16 after d. Low nibbles are elements 0..15.
function dequantizeQ4(source: Uint8Array, blocks: number, target: Float32Array, start: number, hasMin: boolean): void {
  const table = halfToFloatTable();
  const blockBytes = hasMin ? 20 : 18;
  const quantStart = hasMin ? 4 : 2;
  for (let block = 0; block < blocks; block++) {
    const base = block * blockBytes;
    const scale = half(table, source, base);
    const out = start + block * 32;
    if (hasMin) {
      const min = half(table, source, base + 2);
      for (let index = 0; index < 16; index++) {
        const byte = source[base + quantStart + index] as number;
        target[out + index] = scale * (byte & 0xf) + min;
        target[out + index + 16] = scale * (byte >> 4) + min;
      }
    } else {
      for (let index = 0; index < 16; index++) {
        const byte = source[base + quantStart + index] as number;
        target[out + index] = ((byte & 0xf) - 8) * scale;
        target[out + index + 16] = ((byte >> 4) - 8) * scale;
      }
    }
  }
}

// Q5_0: d f16, qh u32 (bit j = high bit of element j), 16 bytes of nibbles; Q5_1 adds m f16 after d.
function dequantizeQ5(source: Uint8Array, blocks: number, target: Float32Array, start: number, hasMin: boolean): void {
  const table = halfToFloatTable();
  const blockBytes = hasMin ? 24 : 22;
  const highStart = hasMin ? 4 : 2;
  for (let block = 0; block < blocks; block++) {
    const base = block * blockBytes;
    const scale = half(table, source, base);
    const min = hasMin ? half(table, source, base + 2) : 0;
    const high =
      ((source[base + highStart] as number) |
        ((source[base + highStart + 1] as number) << 8) |
        ((source[base + highStart + 2] as number) << 16) |
        ((source[base + highStart + 3] as number) << 24)) >>>
      0;
    const out = start + block * 32;
    for (let index = 0; index < 16; index++) {
      const byte = source[base + highStart + 4 + index] as number;
      const low = (byte & 0xf) | (((high >>> index) << 4) & 0x10);
      const upper = (byte >> 4) | ((high >>> (index + 12)) & 0x10);
      if (hasMin) {
        target[out + index] = scale * low + min;
        target[out + index + 16] = scale * upper + min;
      } else {
        target[out + index] = (low - 16) * scale;
        target[out + index + 16] = (upper - 16) * scale;
      }
    }
  }
}

// Q8_0: d f16, 32 int8.
function dequantizeQ8_0(source: Uint8Array, blocks: number, target: Float32Array, start: number): void {
  const table = halfToFloatTable();
  for (let block = 0; block < blocks; block++) {
    const base = block * 34;
    const scale = half(table, source, base);
    const out = start + block * 32;
    for (let index = 0; index < 32; index++) {
      const byte = source[base + 2 + index] as number;
      target[out + index] = (byte > 127 ? byte - 256 : byte) * scale;
    }
  }
}

// Q4_K: d f16, dmin f16, 12 bytes of packed 6-bit scales/mins, 128 bytes of nibbles; 8 sub-blocks of 32.
function dequantizeQ4K(source: Uint8Array, blocks: number, target: Float32Array, start: number): void {
  const table = halfToFloatTable();
  const scaleMin = new Int32Array(2);
  for (let block = 0; block < blocks; block++) {
    const base = block * 144;
    const scale = half(table, source, base);
    const minScale = half(table, source, base + 2);
    let out = start + block * 256;
    for (let chunk = 0; chunk < 4; chunk++) {
      const quants = base + 16 + chunk * 32;
      scaleMinK4(source, base + 4, chunk * 2, scaleMin);
      const scaleLow = Math.fround(scale * (scaleMin[0] as number));
      const minLow = Math.fround(minScale * (scaleMin[1] as number));
      scaleMinK4(source, base + 4, chunk * 2 + 1, scaleMin);
      const scaleHigh = Math.fround(scale * (scaleMin[0] as number));
      const minHigh = Math.fround(minScale * (scaleMin[1] as number));
      for (let index = 0; index < 32; index++) {
        target[out + index] = scaleLow * ((source[quants + index] as number) & 0xf) - minLow;
      }
      for (let index = 0; index < 32; index++) {
        target[out + 32 + index] = scaleHigh * ((source[quants + index] as number) >> 4) - minHigh;
      }
      out += 64;
    }
  }
}

// Q5_K: d f16, dmin f16, 12 bytes of scales, 32 bytes of high bits, 128 bytes of nibbles.
function dequantizeQ5K(source: Uint8Array, blocks: number, target: Float32Array, start: number): void {
  const table = halfToFloatTable();
  const scaleMin = new Int32Array(2);
  for (let block = 0; block < blocks; block++) {
    const base = block * 176;
    const scale = half(table, source, base);
    const minScale = half(table, source, base + 2);
    const highBits = base + 16;
    let out = start + block * 256;
    for (let chunk = 0; chunk < 4; chunk++) {
      const quants = base + 48 + chunk * 32;
      const lowMask = 1 << (chunk * 2);
      const highMask = 2 << (chunk * 2);
      scaleMinK4(source, base + 4, chunk * 2, scaleMin);
      const scaleLow = Math.fround(scale * (scaleMin[0] as number));
      const minLow = Math.fround(minScale * (scaleMin[1] as number));
      scaleMinK4(source, base + 4, chunk * 2 + 1, scaleMin);
      const scaleHigh = Math.fround(scale * (scaleMin[0] as number));
      const minHigh = Math.fround(minScale * (scaleMin[1] as number));
      for (let index = 0; index < 32; index++) {
        const high = (source[highBits + index] as number) & lowMask ? 16 : 0;
        target[out + index] = scaleLow * (((source[quants + index] as number) & 0xf) + high) - minLow;
      }
      for (let index = 0; index < 32; index++) {
        const high = (source[highBits + index] as number) & highMask ? 16 : 0;
        target[out + 32 + index] = scaleHigh * (((source[quants + index] as number) >> 4) + high) - minHigh;
      }
      out += 64;
    }
  }
}

// Q6_K: 128 bytes low nibbles, 64 bytes of 2-bit highs, 16 int8 scales, d f16; 16 sub-blocks of 16.
function dequantizeQ6K(source: Uint8Array, blocks: number, target: Float32Array, start: number): void {
  const table = halfToFloatTable();
  for (let block = 0; block < blocks; block++) {
    const base = block * 210;
    const scale = half(table, source, base + 208);
    for (let half128 = 0; half128 < 2; half128++) {
      const low = base + half128 * 64;
      const high = base + 128 + half128 * 32;
      const scales = base + 192 + half128 * 8;
      const out = start + block * 256 + half128 * 128;
      for (let index = 0; index < 32; index++) {
        const group = index >> 4;
        const highByte = source[high + index] as number;
        const lowA = source[low + index] as number;
        const lowB = source[low + index + 32] as number;
        const q1 = ((lowA & 0xf) | ((highByte & 3) << 4)) - 32;
        const q2 = ((lowB & 0xf) | (((highByte >> 2) & 3) << 4)) - 32;
        const q3 = ((lowA >> 4) | (((highByte >> 4) & 3) << 4)) - 32;
        const q4 = ((lowB >> 4) | (((highByte >> 6) & 3) << 4)) - 32;
        target[out + index] = scale * signedByte(source[scales + group] as number) * q1;
        target[out + index + 32] = scale * signedByte(source[scales + group + 2] as number) * q2;
        target[out + index + 64] = scale * signedByte(source[scales + group + 4] as number) * q3;
        target[out + index + 96] = scale * signedByte(source[scales + group + 6] as number) * q4;
      }
    }
  }
}

// Q8_K: d f32, 256 int8, 16 int16 block sums (unused for dequantization).
function dequantizeQ8K(source: Uint8Array, blocks: number, target: Float32Array, start: number): void {
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  for (let block = 0; block < blocks; block++) {
    const base = block * 292;
    const scale = view.getFloat32(base, true);
    const out = start + block * 256;
    for (let index = 0; index < 256; index++) {
      target[out + index] = scale * signedByte(source[base + 4 + index] as number);
    }
  }
}

export function signedByte(byte: number): number {
  return byte > 127 ? byte - 256 : byte;
}
