import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Bytes, base64Floats, readFixtureJson, type BlockFixture } from './fixtures.test-utils.js';
import {
  GgufTensorType,
  affineLayoutOrUndefined,
  decodeAffineBlocks,
  decodeAffineBlocksInto,
  dequantize,
  tensorTypeInfoOrUndefined,
  type AffineBlocks,
  type GgufTensorType as TensorType,
} from './index.js';

const affineTypes = [
  GgufTensorType.Q4_0,
  GgufTensorType.Q4_1,
  GgufTensorType.Q5_0,
  GgufTensorType.Q5_1,
  GgufTensorType.Q8_0,
  GgufTensorType.Q4_K,
  GgufTensorType.Q5_K,
  GgufTensorType.Q6_K,
] as const;

/** fp32(fp32(scale · code) + offset), the arithmetic a consumer of AffineBlocks performs. */
function reconstruct(blocks: AffineBlocks): Float32Array {
  const values = new Float32Array(blocks.codes.length);
  for (let index = 0; index < values.length; index++) {
    const block = Math.floor(index / blocks.blockSize);
    const product = Math.fround((blocks.scales[block] as number) * (blocks.codes[index] as number));
    values[index] = product + (blocks.offsets[block] as number);
  }
  return values;
}

/**
 * Compares reconstruction with dequantize: equal as numbers everywhere; the only bit difference
 * allowed is the sign of zero ((q − 8)·d is −0 for a negative d, d·8 − 8·d is +0).
 */
function compare(actual: Float32Array, expected: Float32Array): { mismatches: number; signedZeros: number } {
  let mismatches = 0;
  let signedZeros = 0;
  for (let index = 0; index < actual.length; index++) {
    const a = actual[index] as number;
    const e = expected[index] as number;
    if (Object.is(a, e)) continue;
    if (a === e) signedZeros++;
    else mismatches++;
  }
  return { mismatches, signedZeros };
}

const entries = ['smollm2-blocks.json', 'gemma3-blocks.json', 'synthetic-blocks.json']
  .flatMap((name) => readFixtureJson<BlockFixture>(name).entries)
  .filter((entry) => affineLayoutOrUndefined(entry.type as TensorType) !== undefined);

describe('decodeAffineBlocks reproduces dequantize', () => {
  it('has fixtures for every affine type', () => {
    expect(new Set(entries.map((entry) => entry.type))).toEqual(new Set(affineTypes));
  });

  for (const entry of entries) {
    it(`${entry.typeName} ${entry.tensor}: equal to gguf-py's values`, () => {
      const raw = base64Bytes(entry.raw);
      const blocks = decodeAffineBlocks(entry.type as TensorType, raw, entry.elementCount);
      const layout = affineLayoutOrUndefined(entry.type as TensorType);
      expect({ blockSize: blocks.blockSize, codeBits: blocks.codeBits }).toEqual(layout);
      expect(blocks.scales.length).toBe(entry.elementCount / blocks.blockSize);
      expect(blocks.codes.every((code) => code < 2 ** blocks.codeBits)).toBe(true);
      const result = compare(reconstruct(blocks), base64Floats(entry.expected));
      expect(result.mismatches).toBe(0);
    });
  }

  it('matches dequantize on random blocks with finite scales (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...affineTypes),
        fc.integer({ min: 1, max: 3 }),
        fc.uint8Array({ minLength: 3 * 210, maxLength: 3 * 210 }),
        (type, blockCount, noise) => {
          const info = tensorTypeInfoOrUndefined(type);
          if (info === undefined) throw new Error('unknown type');
          const raw = noise.slice(0, blockCount * info.blockByteLength);
          // Keep every fp16 scale finite: clear one exponent bit of each half at the scale positions.
          const halfPositions = type === GgufTensorType.Q6_K ? [208] : type === GgufTensorType.Q4_K || type === GgufTensorType.Q5_K ? [0, 2] : type === GgufTensorType.Q4_1 || type === GgufTensorType.Q5_1 ? [0, 2] : [0];
          for (let block = 0; block < blockCount; block++) {
            for (const position of halfPositions) {
              const high = block * info.blockByteLength + position + 1;
              raw[high] = (raw[high] as number) & 0xbf;
            }
          }
          const elementCount = blockCount * info.blockElementCount;
          const expected = new Float32Array(elementCount);
          dequantize(type, raw, elementCount, expected);
          const result = compare(reconstruct(decodeAffineBlocks(type, raw, elementCount)), expected);
          expect(result.mismatches).toBe(0);
        },
      ),
      { numRuns: 400, seed: 1128 },
    );
  });
});

describe('decodeAffineBlocksInto', () => {
  it('writes at an element offset into caller arrays and returns views of the written range', () => {
    const entry = entries.find((candidate) => candidate.typeName === 'Q6_K');
    if (entry === undefined) throw new Error('no Q6_K fixture');
    const raw = base64Bytes(entry.raw);
    const target = {
      codes: new Uint8Array(entry.elementCount + 32).fill(255),
      scales: new Float32Array(entry.elementCount / 16 + 2).fill(9),
      offsets: new Float32Array(entry.elementCount / 16 + 2).fill(9),
    };
    const written = decodeAffineBlocksInto(entry.type as TensorType, raw, entry.elementCount, target, 16);
    const fresh = decodeAffineBlocks(entry.type as TensorType, raw, entry.elementCount);
    expect(written.codes.buffer).toBe(target.codes.buffer);
    expect(written.codes).toEqual(fresh.codes);
    expect(written.scales).toEqual(fresh.scales);
    expect(written.offsets).toEqual(fresh.offsets);
    expect([target.codes[15], target.scales[0], target.offsets[0]]).toEqual([255, 9, 9]);
  });

  it('rejects types without an affine form, misaligned offsets and small targets', () => {
    const codeOf = (action: () => unknown): string | undefined => {
      try {
        action();
      } catch (error) {
        return isQaqError(error) ? error.code : `untyped: ${String(error)}`;
      }
      return undefined;
    };
    for (const type of [GgufTensorType.F32, GgufTensorType.F16, GgufTensorType.Q8_K, GgufTensorType.Q2_K]) {
      expect(codeOf(() => decodeAffineBlocks(type, new Uint8Array(4096), 256))).toBe('unsupported-tensor-type');
    }
    const small = { codes: new Uint8Array(32), scales: new Float32Array(1), offsets: new Float32Array(1) };
    const raw = new Uint8Array(36);
    expect(codeOf(() => decodeAffineBlocksInto(GgufTensorType.Q4_0, raw, 64, small))).toBe('invalid-argument');
    expect(codeOf(() => decodeAffineBlocksInto(GgufTensorType.Q4_0, raw, 32, small, 8))).toBe('invalid-argument');
    expect(codeOf(() => decodeAffineBlocksInto(GgufTensorType.Q4_0, raw, 32, small))).toBeUndefined();
  });
});
