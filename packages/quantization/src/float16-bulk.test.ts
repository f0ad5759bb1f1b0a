import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16.js';
import { decodeFloat16, encodeFloat16, nativeFloat16ArrayAvailable } from './float16-bulk.js';

const allPatterns = (): Uint16Array => {
  const patterns = new Uint16Array(65536);
  for (let bits = 0; bits < 65536; bits += 1) patterns[bits] = bits;
  return patterns;
};

const isNaNBits = (bits: number): boolean => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;

function nextFloat32(value: number, direction: 1 | -1): number {
  const floats = new Float32Array([value]);
  const words = new Int32Array(floats.buffer);
  words[0] = (words[0] as number) + (value > 0 === (direction === 1) ? 1 : -1);
  return floats[0] as number;
}

/** float32 inputs around every fp16 value and midpoint, plus out-of-range and special values. */
function encodeInputs(): Float32Array {
  const values: number[] = [0, -0, Infinity, -Infinity, 65519.99, 65520, -65520, 1e-30, -1e-30, 2 ** -25, 1e20];
  for (let bits = 0; bits < 0x7bff; bits += 1) {
    const a = float16BitsToFloat32(bits);
    const b = float16BitsToFloat32(bits + 1);
    const midpoint = (a + b) / 2;
    values.push(a, midpoint, -midpoint, a + (b - a) * 0.3, nextFloat32(midpoint, 1), nextFloat32(midpoint, -1));
  }
  return new Float32Array(values);
}

describe('bulk fp16 conversion', () => {
  it('reports native Float16Array availability from globalThis', () => {
    expect(nativeFloat16ArrayAvailable).toBe(typeof (globalThis as Record<string, unknown>)['Float16Array'] === 'function');
  });

  it('portable decode matches the scalar decoder for all 65,536 patterns', () => {
    const decoded = new Float32Array(65536);
    decodeFloat16(allPatterns(), decoded, 65536, 'portable');
    for (let bits = 0; bits < 65536; bits += 1) {
      const expected = float16BitsToFloat32(bits);
      if (!Object.is(decoded[bits], expected) && !(Number.isNaN(expected) && Number.isNaN(decoded[bits]))) {
        expect.fail(`0x${bits.toString(16)}`);
      }
    }
  });

  it('portable encode matches the scalar encoder around every fp16 value and midpoint', () => {
    const inputs = encodeInputs();
    const encoded = new Uint16Array(inputs.length);
    encodeFloat16(inputs, encoded, inputs.length, 'portable');
    for (let index = 0; index < inputs.length; index += 1) {
      if (encoded[index] !== float32ToFloat16Bits(inputs[index] as number)) expect.fail(`input ${inputs[index]}`);
    }
  });

  it('portable encode matches the scalar encoder for arbitrary float32 bit patterns (NaN, Inf, subnormals)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 64 }), (patterns) => {
        const inputs = new Float32Array(Int32Array.from(patterns).buffer);
        const encoded = new Uint16Array(inputs.length);
        encodeFloat16(inputs, encoded, inputs.length, 'portable');
        // A NaN's sign may not survive the float32 → number read, so compare NaNs without it.
        const withoutNaNSign = (bits: number): number => (isNaNBits(bits) ? bits & 0x7fff : bits);
        expect(Array.from(encoded, withoutNaNSign)).toEqual(Array.from(inputs, (value) => withoutNaNSign(float32ToFloat16Bits(value))));
      }),
      { numRuns: 2000 },
    );
  });

  it('converts only `count` elements and leaves the rest untouched', () => {
    const source = new Float32Array([1, 2, 3, 4]);
    const target = new Uint16Array([7, 7, 7, 7]);
    encodeFloat16(source, target, 2);
    expect(Array.from(target)).toEqual([0x3c00, 0x4000, 7, 7]);
    const back = new Float32Array([9, 9, 9, 9]);
    decodeFloat16(target, back, 2);
    expect(Array.from(back)).toEqual([1, 2, 9, 9]);
  });

  it('works on subarray views at a byte offset', () => {
    const target = new Uint16Array(8).fill(5).subarray(3, 6);
    encodeFloat16(new Float32Array([0.5, -2, 65504]), target);
    expect(Array.from(target)).toEqual([0x3800, 0xc000, 0x7bff]);
    const decoded = new Float32Array(10).subarray(1, 4);
    decodeFloat16(target, decoded);
    expect(Array.from(decoded)).toEqual([0.5, -2, 65504]);
  });

  it('rejects counts beyond either buffer before writing', () => {
    const target = new Uint16Array([1, 2]);
    expect(() => encodeFloat16(new Float32Array(3), target, 3)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
    expect(Array.from(target)).toEqual([1, 2]);
    expect(() => decodeFloat16(new Uint16Array(1), new Float32Array(4), 2)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
  });

  it.runIf(!nativeFloat16ArrayAvailable)('refuses the native path when the runtime has no Float16Array', () => {
    try {
      encodeFloat16(new Float32Array(1), new Uint16Array(1), 1, 'native');
      expect.fail('expected a throw');
    } catch (error) {
      expect(isQaqError(error, 'float16-array-unavailable')).toBe(true);
    }
  });

  // Runs on Node ≥ 24 and current browsers; on older runtimes only the portable path exists.
  describe.runIf(nativeFloat16ArrayAvailable)('native Float16Array path', () => {
    it('decodes all patterns bit-identically to the portable path', () => {
      const native = new Float32Array(65536);
      const portable = new Float32Array(65536);
      decodeFloat16(allPatterns(), native, 65536, 'native');
      decodeFloat16(allPatterns(), portable, 65536, 'portable');
      for (let bits = 0; bits < 65536; bits += 1) {
        if (isNaNBits(bits)) {
          expect(Number.isNaN(native[bits])).toBe(true);
        } else if (!Object.is(native[bits], portable[bits])) {
          expect.fail(`0x${bits.toString(16)}`);
        }
      }
    });

    it('encodes bit-identically to the portable path', () => {
      const inputs = encodeInputs();
      const native = new Uint16Array(inputs.length);
      const portable = new Uint16Array(inputs.length);
      encodeFloat16(inputs, native, inputs.length, 'native');
      encodeFloat16(inputs, portable, inputs.length, 'portable');
      expect(native).toEqual(portable);
    });
  });
});
