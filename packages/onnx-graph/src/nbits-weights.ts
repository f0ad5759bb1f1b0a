import { QaqError } from '@qaq/errors';
import type { AffineBlocks } from '@qaq/gguf';

/**
 * One com.microsoft MatMulNBits operand, 4-bit: `packed` is [N, K / blockSize, blockSize / 2] (even element in the
 * low nibble), `scales` [N · K / blockSize], `zeroPoints` uint8 nibbles, rows padded to whole bytes.
 * Its weight is (code − zeroPoint) · scale.
 */
export interface NBitsPart {
  readonly packed: Uint8Array;
  readonly scales: Float32Array;
  readonly zeroPoints: Uint8Array;
}

/**
 * A [rows = N, columns = K] matrix as a sum of 4-bit MatMulNBits parts plus an optional per-block constant:
 * W[n, k] = Σ_p scale_p[n, b] · (code_p[n, k] − zero_p[n, b]) + correction[n, b], b = ⌊k / blockSize⌋.
 * 8-bit codes (Q5_0, Q8_0, Q6_K) are split into a high part (scale · 16) and a low part; float minima (Q4_1,
 * Q4_K) become an integer zero point plus the residual in `correction`. Why: onnxruntime's CPU MatMulNBits
 * prepacks only 4-bit weights with integer zero points; 8-bit and float-zero-point weights take an unpacked
 * path 15–80× slower (bench/matmulnbits-variants.ts).
 */
export interface NBitsWeight {
  readonly rows: number;
  readonly columns: number;
  readonly blockSize: number;
  /** The original code width (4 for Q4_x, 5/6/8 for the split types). */
  readonly codeBits: number;
  readonly parts: readonly NBitsPart[];
  /** [rows, blocksPerRow] or null when every block's offset is an exact integer zero point. */
  readonly correction: Float32Array | null;
  /** Per block: the combined integer zero point and scale of the original codes (for the embedding gather). */
  readonly zeroPoints: Uint8Array;
  readonly scales: Float32Array;
}

/**
 * Converts GGUF affine blocks (value = scale · code + offset) into MatMulNBits parts without requantizing: codes
 * are kept bit for bit. `rowOrder[newRow] = sourceRow` reorders output rows (to undo llama.cpp's Q/K permutation).
 */
export function affineToNBits(blocks: AffineBlocks, rows: number, columns: number, rowOrder?: Int32Array): NBitsWeight {
  const { blockSize, codeBits } = blocks;
  if (codeBits > 8 || columns % blockSize !== 0 || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new QaqError('unsupported-tensor-type', 'blocks cannot be expressed as MatMulNBits', {
      details: { blockSize, codeBits, columns },
    });
  }
  if (blocks.codes.length !== rows * columns || blocks.scales.length * blockSize !== rows * columns) {
    throw new QaqError('invalid-affine-blocks', 'code count does not match the matrix shape', {
      details: { codes: blocks.codes.length, rows, columns },
    });
  }
  const blocksPerRow = columns / blockSize;
  const blockCount = rows * blocksPerRow;
  const maxCode = (1 << codeBits) - 1;
  const scales = new Float32Array(blockCount);
  const zeroPoints = new Uint8Array(blockCount);
  const correction = new Float32Array(blockCount);
  const codes = new Uint8Array(rows * columns);
  let needsCorrection = false;
  for (let row = 0; row < rows; row++) {
    const source = rowOrder === undefined ? row : rowOrder[row]!;
    codes.set(blocks.codes.subarray(source * columns, (source + 1) * columns), row * columns);
    for (let block = 0; block < blocksPerRow; block++) {
      const from = source * blocksPerRow + block;
      const to = row * blocksPerRow + block;
      const scale = blocks.scales[from]!;
      const offset = blocks.offsets[from]!;
      // value = scale · (code − z) + (offset + z · scale); z = −offset / scale rounded into code range.
      const exact = scale === 0 ? 0 : -offset / scale;
      const zeroPoint = Math.min(maxCode, Math.max(0, Math.round(exact)));
      const residual = offset + zeroPoint * scale;
      scales[to] = scale;
      zeroPoints[to] = zeroPoint;
      correction[to] = residual;
      if (residual !== 0) needsCorrection = true;
    }
  }
  const parts = codeBits <= 4 ? [part(codes, scales, zeroPoints, rows, blocksPerRow, 0, 1)] : splitParts(codes, scales, zeroPoints, rows, blocksPerRow);
  return { rows, columns, blockSize, codeBits, parts, correction: needsCorrection ? correction : null, zeroPoints, scales };
}

function splitParts(
  codes: Uint8Array,
  scales: Float32Array,
  zeroPoints: Uint8Array,
  rows: number,
  blocksPerRow: number,
): NBitsPart[] {
  // code = 16·high + low and zero = 16·zh + zl, so scale·(code − zero) = 16·scale·(high − zh) + scale·(low − zl);
  // 16·scale is exact in fp32.
  const high = part(codes, scales, zeroPoints, rows, blocksPerRow, 4, 16);
  const low = part(codes, scales, zeroPoints, rows, blocksPerRow, 0, 1);
  return [high, low];
}

function part(
  codes: Uint8Array,
  scales: Float32Array,
  zeroPoints: Uint8Array,
  rows: number,
  blocksPerRow: number,
  shift: number,
  scaleFactor: number,
): NBitsPart {
  const packed = new Uint8Array(codes.length >>> 1);
  for (let index = 0; index < packed.length; index++) {
    packed[index] = ((codes[2 * index]! >>> shift) & 15) | (((codes[2 * index + 1]! >>> shift) & 15) << 4);
  }
  const partScales = scaleFactor === 1 ? scales : scales.map((scale) => scale * scaleFactor);
  const bytesPerRow = Math.ceil(blocksPerRow / 2);
  const packedZeroPoints = new Uint8Array(rows * bytesPerRow);
  for (let row = 0; row < rows; row++) {
    for (let block = 0; block < blocksPerRow; block++) {
      const value = (zeroPoints[row * blocksPerRow + block]! >>> shift) & 15;
      packedZeroPoints[row * bytesPerRow + (block >>> 1)]! |= block % 2 === 0 ? value : value << 4;
    }
  }
  return { packed, scales: partScales, zeroPoints: packedZeroPoints };
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
