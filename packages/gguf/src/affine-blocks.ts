import { QaqError } from '@qaq/errors';
import type { AffineBlocks, AffineBlocksTarget, AffineLayout } from './affine-types.js';
import { checkTargetRange, checkedBlockCount, scaleMinK4, unsupportedTensorType } from './block-arguments.js';
import { halfToFloatTable } from './half-float.js';
import { GgufTensorType } from './tensor-types.js';

const layouts = new Map<number, AffineLayout>([
  [GgufTensorType.Q4_0, { blockSize: 32, codeBits: 4 }],
  [GgufTensorType.Q4_1, { blockSize: 32, codeBits: 4 }],
  [GgufTensorType.Q5_0, { blockSize: 32, codeBits: 5 }],
  [GgufTensorType.Q5_1, { blockSize: 32, codeBits: 5 }],
  [GgufTensorType.Q8_0, { blockSize: 32, codeBits: 8 }],
  [GgufTensorType.Q4_K, { blockSize: 32, codeBits: 4 }],
  [GgufTensorType.Q5_K, { blockSize: 32, codeBits: 5 }],
  [GgufTensorType.Q6_K, { blockSize: 16, codeBits: 6 }],
]);

/** The affine layout of a block type, or undefined when it has none (F32, F16, BF16, Q8_K, …). */
export function affineLayoutOrUndefined(type: GgufTensorType): AffineLayout | undefined {
  return layouts.get(type);
}

function layoutOf(type: GgufTensorType, operation: string): AffineLayout {
  const layout = layouts.get(type);
  if (layout === undefined) throw unsupportedTensorType(type, operation);
  return layout;
}

/**
 * Decodes a quantized tensor into unsigned codes with a per-block scale and offset such that
 * fp32(fp32(scales[b] * codes[i]) + offsets[b]) equals `dequantize` bit for bit (the products are
 * exact in fp32 for every supported type). Types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
 */
export function decodeAffineBlocks(type: GgufTensorType, source: Uint8Array, elementCount: number): AffineBlocks {
  const layout = layoutOf(type, 'decodeAffineBlocks');
  checkedBlockCount(type, source, elementCount, 'decodeAffineBlocks');
  const blockCount = elementCount / layout.blockSize;
  return decodeAffineBlocksInto(type, source, elementCount, {
    codes: new Uint8Array(elementCount),
    scales: new Float32Array(blockCount),
    offsets: new Float32Array(blockCount),
  });
}

/**
 * Like `decodeAffineBlocks`, writing into caller-provided arrays: codes at
 * [elementOffset, elementOffset + elementCount), scales and offsets at elementOffset / blockSize.
 * Returns views of the written ranges.
 */
export function decodeAffineBlocksInto(
  type: GgufTensorType,
  source: Uint8Array,
  elementCount: number,
  target: AffineBlocksTarget,
  elementOffset = 0,
): AffineBlocks {
  const operation = 'decodeAffineBlocksInto';
  const layout = layoutOf(type, operation);
  const { blockCount } = checkedBlockCount(type, source, elementCount, operation);
  const { blockSize } = layout;
  if (!Number.isSafeInteger(elementOffset) || elementOffset % blockSize !== 0) {
    throw new QaqError('invalid-argument', `${operation}: elementOffset must be a multiple of ${blockSize}`, {
      details: { elementOffset, blockSize },
    });
  }
  const affineCount = elementCount / blockSize;
  const blockOffset = elementOffset / blockSize;
  checkTargetRange(target.codes.length, elementOffset, elementCount, 'codes', operation);
  checkTargetRange(target.scales.length, blockOffset, affineCount, 'scales', operation);
  checkTargetRange(target.offsets.length, blockOffset, affineCount, 'offsets', operation);
  const out = { codes: target.codes, scales: target.scales, offsets: target.offsets, elementOffset, blockOffset };
  switch (type) {
    case GgufTensorType.Q4_0:
    case GgufTensorType.Q4_1:
      decodeQ4(source, blockCount, out, type === GgufTensorType.Q4_1);
      break;
    case GgufTensorType.Q5_0:
    case GgufTensorType.Q5_1:
      decodeQ5(source, blockCount, out, type === GgufTensorType.Q5_1);
      break;
    case GgufTensorType.Q8_0:
      decodeQ8_0(source, blockCount, out);
      break;
    case GgufTensorType.Q4_K:
    case GgufTensorType.Q5_K:
      decodeQ45K(source, blockCount, out, type === GgufTensorType.Q5_K);
      break;
    default:
      decodeQ6K(source, blockCount, out);
  }
  return {
    blockSize,
    codeBits: layout.codeBits,
    codes: target.codes.subarray(elementOffset, elementOffset + elementCount),
    scales: target.scales.subarray(blockOffset, blockOffset + affineCount),
    offsets: target.offsets.subarray(blockOffset, blockOffset + affineCount),
  };
}

interface Output {
  readonly codes: Uint8Array;
  readonly scales: Float32Array;
  readonly offsets: Float32Array;
  readonly elementOffset: number;
  readonly blockOffset: number;
}

function half(table: Float32Array, bytes: Uint8Array, offset: number): number {
  return table[(bytes[offset] as number) | ((bytes[offset + 1] as number) << 8)] as number;
}

// Q4_0 stores (q − 8)·d: code q, offset −8·d. Q4_1 stores d·q + m.
function decodeQ4(source: Uint8Array, blocks: number, out: Output, hasMin: boolean): void {
  const table = halfToFloatTable();
  const blockBytes = hasMin ? 20 : 18;
  const quantStart = hasMin ? 4 : 2;
  for (let block = 0; block < blocks; block++) {
    const base = block * blockBytes;
    const scale = half(table, source, base);
    out.scales[out.blockOffset + block] = scale;
    out.offsets[out.blockOffset + block] = hasMin ? half(table, source, base + 2) : -8 * scale;
    const codes = out.elementOffset + block * 32;
    for (let index = 0; index < 16; index++) {
      const byte = source[base + quantStart + index] as number;
      out.codes[codes + index] = byte & 0xf;
      out.codes[codes + index + 16] = byte >> 4;
    }
  }
}

// Q5_0 stores (q − 16)·d: code q, offset −16·d. Q5_1 stores d·q + m.
function decodeQ5(source: Uint8Array, blocks: number, out: Output, hasMin: boolean): void {
  const table = halfToFloatTable();
  const blockBytes = hasMin ? 24 : 22;
  const highStart = hasMin ? 4 : 2;
  for (let block = 0; block < blocks; block++) {
    const base = block * blockBytes;
    const scale = half(table, source, base);
    out.scales[out.blockOffset + block] = scale;
    out.offsets[out.blockOffset + block] = hasMin ? half(table, source, base + 2) : -16 * scale;
    const high =
      ((source[base + highStart] as number) |
        ((source[base + highStart + 1] as number) << 8) |
        ((source[base + highStart + 2] as number) << 16) |
        ((source[base + highStart + 3] as number) << 24)) >>>
      0;
    const codes = out.elementOffset + block * 32;
    for (let index = 0; index < 16; index++) {
      const byte = source[base + highStart + 4 + index] as number;
      out.codes[codes + index] = (byte & 0xf) | (((high >>> index) << 4) & 0x10);
      out.codes[codes + index + 16] = (byte >> 4) | ((high >>> (index + 12)) & 0x10);
    }
  }
}

// Q8_0 stores q·d with int8 q: code q + 128, offset −128·d.
function decodeQ8_0(source: Uint8Array, blocks: number, out: Output): void {
  const table = halfToFloatTable();
  for (let block = 0; block < blocks; block++) {
    const base = block * 34;
    const scale = half(table, source, base);
    out.scales[out.blockOffset + block] = scale;
    out.offsets[out.blockOffset + block] = -128 * scale;
    const codes = out.elementOffset + block * 32;
    for (let index = 0; index < 32; index++) out.codes[codes + index] = (source[base + 2 + index] as number) ^ 0x80;
  }
}

// Q4_K / Q5_K store (d·sc)·q − dmin·m per 32-element sub-block: scale d·sc, offset −dmin·m.
function decodeQ45K(source: Uint8Array, blocks: number, out: Output, fiveBit: boolean): void {
  const table = halfToFloatTable();
  const scaleMin = new Int32Array(2);
  const blockBytes = fiveBit ? 176 : 144;
  const quantStart = fiveBit ? 48 : 16;
  for (let block = 0; block < blocks; block++) {
    const base = block * blockBytes;
    const scale = half(table, source, base);
    const minScale = half(table, source, base + 2);
    const affine = out.blockOffset + block * 8;
    for (let subBlock = 0; subBlock < 8; subBlock++) {
      scaleMinK4(source, base + 4, subBlock, scaleMin);
      out.scales[affine + subBlock] = scale * (scaleMin[0] as number);
      out.offsets[affine + subBlock] = -Math.fround(minScale * (scaleMin[1] as number));
    }
    for (let chunk = 0; chunk < 4; chunk++) {
      const quants = base + quantStart + chunk * 32;
      const codes = out.elementOffset + block * 256 + chunk * 64;
      const lowMask = 1 << (chunk * 2);
      const highMask = 2 << (chunk * 2);
      for (let index = 0; index < 32; index++) {
        const byte = source[quants + index] as number;
        let low = byte & 0xf;
        let high = byte >> 4;
        if (fiveBit) {
          const highBits = source[base + 16 + index] as number;
          if (highBits & lowMask) low += 16;
          if (highBits & highMask) high += 16;
        }
        out.codes[codes + index] = low;
        out.codes[codes + 32 + index] = high;
      }
    }
  }
}

// Q6_K stores d·sc·(q − 32) per 16-element sub-block: code q, scale d·sc, offset −32·d·sc.
function decodeQ6K(source: Uint8Array, blocks: number, out: Output): void {
  const table = halfToFloatTable();
  for (let block = 0; block < blocks; block++) {
    const base = block * 210;
    const scale = half(table, source, base + 208);
    const affine = out.blockOffset + block * 16;
    for (let subBlock = 0; subBlock < 16; subBlock++) {
      const raw = source[base + 192 + subBlock] as number;
      const subScale = Math.fround(scale * (raw > 127 ? raw - 256 : raw));
      out.scales[affine + subBlock] = subScale;
      out.offsets[affine + subBlock] = -32 * subScale;
    }
    for (let half128 = 0; half128 < 2; half128++) {
      const low = base + half128 * 64;
      const high = base + 128 + half128 * 32;
      const codes = out.elementOffset + block * 256 + half128 * 128;
      for (let index = 0; index < 32; index++) {
        const highByte = source[high + index] as number;
        const lowA = source[low + index] as number;
        const lowB = source[low + index + 32] as number;
        out.codes[codes + index] = (lowA & 0xf) | ((highByte & 3) << 4);
        out.codes[codes + index + 32] = (lowB & 0xf) | (((highByte >> 2) & 3) << 4);
        out.codes[codes + index + 64] = (lowA >> 4) | (((highByte >> 4) & 3) << 4);
        out.codes[codes + index + 96] = (lowB >> 4) | (((highByte >> 6) & 3) << 4);
      }
    }
  }
}
