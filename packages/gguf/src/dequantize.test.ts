import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { base64Bytes, base64Floats, readFixtureJson, type BlockFixture } from './fixtures.test-utils.js';
import { GgufTensorType, dequantize, tensorTypeName, type GgufTensorType as TensorType } from './index.js';

const fixtureFiles = ['smollm2-blocks.json', 'gemma3-blocks.json', 'synthetic-blocks.json'];
const entries = fixtureFiles.flatMap((name) =>
  readFixtureJson<BlockFixture>(name).entries.map((entry) => ({ ...entry, fixture: name })),
);

/** Index of the first element whose fp32 bits differ (NaN equals NaN), or -1. */
function firstBitDifference(actual: Float32Array, expected: Float32Array): number {
  const actualBits = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const expectedBits = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let index = 0; index < actual.length; index++) {
    if (actualBits[index] !== expectedBits[index] && !(Number.isNaN(actual[index]) && Number.isNaN(expected[index]))) {
      return index;
    }
  }
  return -1;
}

describe('dequantize matches gguf-py bit for bit', () => {
  it('covers every type the reader claims to dequantize', () => {
    const covered = new Set(entries.map((entry) => entry.typeName));
    expect([...covered].sort()).toEqual(
      ['BF16', 'F16', 'F32', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_0', 'Q5_1', 'Q5_K', 'Q6_K', 'Q8_0', 'Q8_K'].sort(),
    );
  });

  for (const entry of entries) {
    it(`${entry.typeName} ${entry.tensor} (${entry.fixture})`, () => {
      const expected = base64Floats(entry.expected);
      expect(expected.length).toBe(entry.elementCount);
      const target = new Float32Array(entry.elementCount + 3).fill(42);
      dequantize(entry.type as TensorType, base64Bytes(entry.raw), entry.elementCount, target, 2);
      expect(firstBitDifference(target.subarray(2, 2 + entry.elementCount), expected)).toBe(-1);
      expect([target[0], target[1], target[entry.elementCount + 2]]).toEqual([42, 42, 42]);
    });
  }
});

describe('dequantize validates before writing', () => {
  const codeOf = (action: () => void): string | undefined => {
    try {
      action();
    } catch (error) {
      return isQaqError(error) ? error.code : `untyped: ${String(error)}`;
    }
    return undefined;
  };

  it('rejects unsupported types by name', () => {
    for (const type of [GgufTensorType.Q2_K, GgufTensorType.IQ4_NL, GgufTensorType.I32, GgufTensorType.Q8_1]) {
      try {
        dequantize(type, new Uint8Array(1024), 256, new Float32Array(256));
        expect.unreachable();
      } catch (error) {
        expect(isQaqError(error, 'unsupported-tensor-type')).toBe(true);
        expect((error as Error).message).toContain(tensorTypeName(type));
      }
    }
    expect(codeOf(() => dequantize(4 as TensorType, new Uint8Array(8), 1, new Float32Array(1)))).toBe(
      'unsupported-tensor-type',
    );
  });

  it('rejects partial blocks, short sources and small targets without touching the target', () => {
    const target = new Float32Array(64).fill(5);
    expect(codeOf(() => dequantize(GgufTensorType.Q4_0, new Uint8Array(36), 48, target))).toBe('invalid-argument');
    expect(codeOf(() => dequantize(GgufTensorType.Q4_0, new Uint8Array(35), 64, target))).toBe('invalid-argument');
    expect(codeOf(() => dequantize(GgufTensorType.Q4_0, new Uint8Array(36), 64, target, 1))).toBe('invalid-argument');
    expect(codeOf(() => dequantize(GgufTensorType.F32, new Uint8Array(8), -2, target))).toBe('invalid-argument');
    expect(codeOf(() => dequantize(GgufTensorType.F32, new Uint8Array(8), 2, target, 0.5))).toBe('invalid-argument');
    expect(target.every((value) => value === 5)).toBe(true);
  });

  it('decodes F16 specials and BF16 exactly', () => {
    const f16 = new Uint8Array([0x00, 0x3c, 0x00, 0xfc, 0x01, 0x00, 0x00, 0x80, 0xff, 0x7b]);
    const out = new Float32Array(5);
    dequantize(GgufTensorType.F16, f16, 5, out);
    expect([...out]).toEqual([1, -Infinity, 2 ** -24, -0, 65504]);
    const bf16 = new Uint8Array([0x80, 0x3f, 0x49, 0x40]);
    dequantize(GgufTensorType.BF16, bf16, 2, out);
    expect([out[0], out[1]]).toEqual([1, Math.fround(3.140625)]);
  });
});
