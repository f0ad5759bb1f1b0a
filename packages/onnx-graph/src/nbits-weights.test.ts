import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import type { AffineBlocks } from '@qaq/gguf';
import { affineToNBits, llamaRopeRowOrder, type NBitsWeight } from './nbits-weights.js';
import { linear, quantizedEmbedding } from './decoder-ops.js';
import { GraphBuilder } from './onnx/graph-builder.js';

/** Random affine blocks shaped like a GGUF type: integer zero points (Q8_0-like) or float minima (Q4_K-like). */
function randomBlocks(
  random: () => number,
  rows: number,
  columns: number,
  blockSize: number,
  codeBits: number,
  floatOffsets: boolean,
): AffineBlocks {
  const codes = Uint8Array.from({ length: rows * columns }, () => Math.floor(random() * (1 << codeBits)));
  const blockCount = (rows * columns) / blockSize;
  // Like GGUF: an fp16 super-scale times a small integer, so scale · code is exact in fp32.
  const scales = Float32Array.from({ length: blockCount }, () => Math.round((random() - 0.3) * 2 ** 11) * 2 ** -16);
  if (blockCount > 2) scales[1] = 0; // a constant block (its offset alone for float minima)
  const half = 1 << (codeBits - 1);
  const offsets = Float32Array.from(scales, (scale) =>
    floatOffsets ? -Math.round(random() * 2 ** 17) * 2 ** -20 : -half * scale,
  );
  return { blockSize, codeBits, codes, scales, offsets };
}

function mulberry(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The GGUF value of element (row, column) after the row order is applied: fp32(fp32(s·c) + o). */
function ggufValue(blocks: AffineBlocks, columns: number, row: number, column: number): number {
  const index = row * columns + column;
  const block = Math.floor(index / blocks.blockSize);
  return Math.fround(Math.fround(blocks.scales[block]! * blocks.codes[index]!) + blocks.offsets[block]!);
}

/** The matrix an NBitsWeight stands for, evaluated part by part in float64. */
function reconstruct(weight: NBitsWeight, row: number, column: number): number {
  const blocksPerRow = weight.columns / weight.blockSize;
  const block = Math.floor(column / weight.blockSize);
  const bytesPerRow = Math.ceil(blocksPerRow / 2);
  let value = 0;
  for (const part of weight.parts) {
    const byte = part.packed[(row * weight.columns + column) >>> 1]!;
    const code = column % 2 === 0 ? byte & 15 : byte >>> 4;
    const zeroByte = part.zeroPoints[row * bytesPerRow + (block >>> 1)]!;
    const zero = block % 2 === 0 ? zeroByte & 15 : zeroByte >>> 4;
    value += part.scales[row * blocksPerRow + block]! * (code - zero);
  }
  return value + (weight.correction?.[row * blocksPerRow + block] ?? 0);
}

describe('affineToNBits', () => {
  it('represents every GGUF weight within fp32 rounding, for 4- to 8-bit codes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.constantFrom(4, 5, 6, 8),
        fc.constantFrom(16, 32),
        fc.boolean(),
        (seed, codeBits, blockSize, floatOffsets) => {
          const rows = 3;
          const columns = blockSize * 3;
          const blocks = randomBlocks(mulberry(seed), rows, columns, blockSize, codeBits, floatOffsets);
          const weight = affineToNBits(blocks, rows, columns);
          expect(weight.parts.length).toBe(codeBits <= 4 ? 1 : 2);
          if (!floatOffsets) expect(weight.correction).toBeNull();
          for (let row = 0; row < rows; row++) {
            for (let column = 0; column < columns; column++) {
              const expected = ggufValue(blocks, columns, row, column);
              const actual = reconstruct(weight, row, column);
              // Integer zero points: exact; float minima: the residual's one fp32 rounding.
              expect(Math.abs(actual - expected)).toBeLessThanOrEqual(floatOffsets ? 2e-7 * (Math.abs(expected) + 0.2) : 0);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('applies a row order', () => {
    const blocks = randomBlocks(mulberry(7), 4, 32, 32, 4, false);
    const order = Int32Array.from([2, 0, 3, 1]);
    const weight = affineToNBits(blocks, 4, 32, order);
    for (let row = 0; row < 4; row++) {
      for (let column = 0; column < 32; column++) {
        expect(reconstruct(weight, row, column)).toBe(ggufValue(blocks, 32, order[row]!, column));
      }
    }
  });

  it('rejects blocks MatMulNBits cannot hold', () => {
    const blocks: AffineBlocks = { blockSize: 8, codeBits: 4, codes: new Uint8Array(16), scales: new Float32Array(2), offsets: new Float32Array(2) };
    expect(() => affineToNBits(blocks, 1, 16)).toThrow(/MatMulNBits/);
  });

  it('runs in onnxruntime: MatMulNBits parts and the embedding gather match a float64 reference', async () => {
    for (const [codeBits, floatOffsets, blockSize] of [[8, false, 32], [6, false, 16], [4, true, 32], [5, false, 32]] as const) {
      const rows = 40;
      const columns = 64;
      const random = mulberry(codeBits * 100 + blockSize);
      const blocks = randomBlocks(random, rows, columns, blockSize, codeBits, floatOffsets);
      const weight = affineToNBits(blocks, rows, columns);
      const g = new GraphBuilder('nbits');
      const x = g.input('x', 'float32', [1, 2, columns]);
      const ids = g.input('ids', 'int64', [1, 3]);
      const shared = { kind: 'nbits' as const, ...weight };
      g.alias(linear(g, x, shared, 'w'), 'y');
      g.output('y', 'float32', [1, 2, rows]);
      g.alias(quantizedEmbedding(g, ids, shared, 'w'), 'e');
      g.output('e', 'float32', [1, 3, columns]);
      const model = g.toModel({ opsetImports: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }] });
      const session = await ort.InferenceSession.create(model);
      const input = Float32Array.from({ length: 2 * columns }, () => random() * 2 - 1);
      const tokenIds = [5, 0, 39];
      const result = await session.run({
        x: new ort.Tensor('float32', input, [1, 2, columns]),
        ids: new ort.Tensor('int64', BigInt64Array.from(tokenIds, BigInt), [1, 3]),
      });
      const y = result['y']!.data as Float32Array;
      for (let token = 0; token < 2; token++) {
        for (let row = 0; row < rows; row++) {
          let sum = 0;
          let magnitude = 0;
          for (let column = 0; column < columns; column++) {
            const term = input[token * columns + column]! * ggufValue(blocks, columns, row, column);
            sum += term;
            magnitude += Math.abs(term);
          }
          expect(Math.abs(y[token * rows + row]! - sum)).toBeLessThanOrEqual(1e-6 * magnitude + 1e-7);
        }
      }
      const embedded = result['e']!.data as Float32Array;
      tokenIds.forEach((id, position) => {
        for (let column = 0; column < columns; column++) {
          const expected = ggufValue(blocks, columns, id, column);
          expect(Math.abs(embedded[position * columns + column]! - expected)).toBeLessThanOrEqual(
            floatOffsets ? 4e-7 * (Math.abs(expected) + 0.2) : 0,
          );
        }
      });
      await session.release();
    }
  });
});

describe('llamaRopeRowOrder', () => {
  it('inverts llama.cpp’s Q/K permutation', () => {
    // convert_hf_to_gguf permute: reshape(heads, 2, d/2, …).swapaxes(1, 2): ggufRow(h, j, t) = hfRow(h, t, j).
    const heads = 3;
    const headDim = 8;
    const hfRows = Array.from({ length: heads * headDim }, (_, index) => index);
    const gguf: number[] = [];
    for (let head = 0; head < heads; head++) {
      for (let j = 0; j < headDim / 2; j++) {
        for (let t = 0; t < 2; t++) gguf.push(hfRows[head * headDim + t * (headDim / 2) + j]!);
      }
    }
    const order = llamaRopeRowOrder(heads, headDim);
    expect(Array.from(order, (ggufRow) => gguf[ggufRow])).toEqual(hfRows);
  });
});
