import { QaqError } from '@qaq/errors';
import type { AffineBlocks } from '@qaq/gguf';

/**
 * A weight matrix [rows = N outputs, columns = K inputs] in com.microsoft MatMulNBits layout:
 * `packed` is [N, K / blockSize, blockSize · bits / 8] (4-bit: even element in the low nibble),
 * `scales` is [N · K / blockSize], and a weight is (code − zeroPoint) · scale.
 */
export interface NBitsWeight {
  readonly rows: number;
  readonly columns: number;
  readonly bits: 4 | 8;
  readonly blockSize: number;
  readonly packed: Uint8Array;
  readonly scales: Float32Array;
  /** uint8 zero points (4-bit: two per byte, low nibble first, rows padded to whole bytes) or float ones. */
  readonly zeroPoints: { readonly kind: 'uint8'; readonly data: Uint8Array } | { readonly kind: 'float'; readonly data: Float32Array };
}

/**
 * Converts GGUF affine blocks (value = scale · code + offset) into MatMulNBits form without requantizing: codes
 * are kept bit for bit and zeroPoint = −offset / scale. When every zero point is an integer in code range (Q4_0,
 * Q5_0, Q8_0, Q6_K) the result is bit-exact; otherwise (Q4_1, Q4_K, Q5_K: float minima) zero points are float and
 * each weight differs from the GGUF value by at most a couple of fp32 ulps.
 * `rowOrder[newRow] = sourceRow` reorders output rows (used to undo llama.cpp's Q/K permutation).
 */
export function affineToNBits(
  blocks: AffineBlocks,
  rows: number,
  columns: number,
  rowOrder?: Int32Array,
): NBitsWeight {
  const { blockSize, codeBits } = blocks;
  const bits: 4 | 8 = codeBits <= 4 ? 4 : 8;
  if (codeBits > 8 || columns % blockSize !== 0 || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new QaqError('unsupported-tensor-type', 'blocks cannot be expressed as MatMulNBits', {
      details: { blockSize, codeBits, columns },
    });
  }
  if (blocks.codes.length !== rows * columns) {
    throw new QaqError('invalid-affine-blocks', 'code count does not match the matrix shape', {
      details: { codes: blocks.codes.length, rows, columns },
    });
  }
  const blocksPerRow = columns / blockSize;
  const blockCount = rows * blocksPerRow;
  const scales = new Float32Array(blockCount);
  const zeroPoints = new Float32Array(blockCount);
  const codes = rowOrder === undefined ? blocks.codes : new Uint8Array(rows * columns);
  let integerZeroPoints = true;
  const maxCode = (1 << bits) - 1;
  for (let row = 0; row < rows; row++) {
    const source = rowOrder === undefined ? row : (rowOrder[row] ?? row);
    if (rowOrder !== undefined) {
      (codes as Uint8Array).set(blocks.codes.subarray(source * columns, (source + 1) * columns), row * columns);
    }
    for (let block = 0; block < blocksPerRow; block++) {
      const from = source * blocksPerRow + block;
      const to = row * blocksPerRow + block;
      let scale = blocks.scales[from] ?? 0;
      const offset = blocks.offsets[from] ?? 0;
      let zeroPoint: number;
      if (scale === 0) {
        // A constant block: code 1, zero point 0, scale = offset reproduces `offset` exactly.
        codes.fill(1, to * blockSize, (to + 1) * blockSize);
        scale = offset;
        zeroPoint = 0;
      } else {
        zeroPoint = -offset / scale;
      }
      scales[to] = scale;
      zeroPoints[to] = zeroPoint;
      if (!Number.isInteger(zeroPoint) || zeroPoint < 0 || zeroPoint > maxCode) integerZeroPoints = false;
    }
  }
  return {
    rows,
    columns,
    bits,
    blockSize,
    packed: bits === 8 ? codes : packNibbles(codes),
    scales,
    zeroPoints: integerZeroPoints
      ? { kind: 'uint8', data: bits === 8 ? Uint8Array.from(zeroPoints) : packZeroPointNibbles(zeroPoints, rows, blocksPerRow) }
      : { kind: 'float', data: zeroPoints },
  };
}

function packNibbles(codes: Uint8Array): Uint8Array {
  const packed = new Uint8Array(codes.length >>> 1);
  for (let index = 0; index < packed.length; index++) {
    packed[index] = ((codes[2 * index] ?? 0) & 15) | (((codes[2 * index + 1] ?? 0) & 15) << 4);
  }
  return packed;
}

function packZeroPointNibbles(zeroPoints: Float32Array, rows: number, blocksPerRow: number): Uint8Array {
  const bytesPerRow = Math.ceil(blocksPerRow / 2);
  const packed = new Uint8Array(rows * bytesPerRow);
  for (let row = 0; row < rows; row++) {
    for (let block = 0; block < blocksPerRow; block++) {
      const value = (zeroPoints[row * blocksPerRow + block] ?? 0) & 15;
      packed[row * bytesPerRow + (block >>> 1)]! |= block % 2 === 0 ? value : value << 4;
    }
  }
  return packed;
}

/**
 * llama.cpp's converter permutes each head's Q/K rows from HF's "halves" RoPE layout to interleaved pairs:
 * GGUF row h·d + 2j + t holds HF row h·d + t·d/2 + j. Returns rowOrder[hfRow] = ggufRow.
 */
export function llamaRopeRowOrder(headCount: number, headDim: number): Int32Array {
  const order = new Int32Array(headCount * headDim);
  const half = headDim / 2;
  for (let head = 0; head < headCount; head++) {
    for (let t = 0; t < 2; t++) {
      for (let j = 0; j < half; j++) order[head * headDim + t * half + j] = head * headDim + 2 * j + t;
    }
  }
  return order;
}
