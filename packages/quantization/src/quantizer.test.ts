import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packCodes, packedByteLength } from './bit-packing.js';
import {
  FLOAT16_MIN_POSITIVE,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  roundDownToFloat16,
  roundToFloat16,
  roundUpToFloat16,
} from './float16.js';
import { quantizeAndPackGroup } from './quantize-and-pack.js';
import { unpackAndDequantizeGroup } from './unpack-and-dequantize.js';
import { computeGroupParameters, dequantizeGroup, quantizeGroup } from './quantizer.js';
import { excludedMask, groupCaseArbitrary, stridedSource } from './quantizer.test-utils.js';

describe('quantizeGroup / dequantizeGroup', () => {
  it('keeps |x − x̂| ≤ step/2 with fp16-exact, tight parameters (every B, sizes 1..512, strides, exclusions)', () => {
    fc.assert(
      fc.property(groupCaseArbitrary, (testCase) => {
        const { bits, values, stride, offset } = testCase;
        const length = values.length;
        const source = stridedSource(testCase);
        const excluded = excludedMask(testCase);
        const codes = new Uint8Array(length + 2).fill(0xaa);
        const parameters = new Float32Array(4).fill(-7);
        quantizeGroup(source, offset, length, stride, bits, codes, 1, parameters, 1, excluded);
        expect(codes[0]).toBe(0xaa);
        expect(codes[length + 1]).toBe(0xaa);
        expect(parameters[0]).toBe(-7);
        expect(parameters[3]).toBe(-7);
        const minimum = parameters[1] as number;
        const step = parameters[2] as number;
        expect(roundToFloat16(minimum)).toBe(minimum);
        expect(roundToFloat16(step)).toBe(step);
        expect(step).toBeGreaterThanOrEqual(FLOAT16_MIN_POSITIVE);

        const included = values.filter((_, index) => excluded === null || excluded[index] !== 1);
        const levels = 2 ** bits;
        if (included.length > 0) {
          const low = Math.min(...included);
          const high = Math.max(...included);
          expect(minimum).toBeLessThanOrEqual(low);
          expect(minimum + levels * step).toBeGreaterThanOrEqual(high);
          // Tight: the fp16 rounding of the range, moved by at most the float32 alignment (u ≤ 2^-23·magnitude).
          const magnitude = Math.max(Math.abs(minimum), Math.abs(minimum + levels * step));
          const alignment = 2 ** -22 * magnitude;
          expect(minimum).toBeGreaterThanOrEqual(roundDownToFloat16(low) - alignment);
          const tightStep = Math.max(FLOAT16_MIN_POSITIVE, roundUpToFloat16((high - roundDownToFloat16(low)) / levels));
          const nextStep = float16BitsToFloat32(float32ToFloat16Bits(tightStep) + 1);
          expect(step).toBeLessThanOrEqual(Math.max(nextStep, tightStep + 2 * alignment));
        }

        const target = new Float32Array(offset + length * stride + 1).fill(99);
        dequantizeGroup(codes, 1, length, minimum, step, target, offset, stride);
        // Collect violations in plain loops (one expect per case keeps the property fast).
        const violations: string[] = [];
        for (let index = 0; index < length; index += 1) {
          const code = codes[1 + index] as number;
          const x = values[index] as number;
          const exact = minimum + (code + 0.5) * step; // exact in float64
          const output = target[offset + index * stride] as number;
          if (code >= levels) violations.push(`code ${code} at ${index}`);
          // Float32 alignment makes every reconstruction exactly representable.
          if (output !== exact) violations.push(`output ${output} is not exactly ${exact}`);
          if (excluded !== null && excluded[index] === 1) {
            // Excluded values still get a code: their segment, clamped to [0, 2^B − 1].
            const inRange = x >= minimum && x <= minimum + levels * step;
            if (x < minimum && code !== 0) violations.push(`excluded ${x} below range got ${code}`);
            if (x > minimum + levels * step && code !== levels - 1) violations.push(`excluded ${x} above range got ${code}`);
            if (inRange && Math.abs(x - exact) > step / 2) violations.push(`excluded in-range ${x}: ${exact}`);
            continue;
          }
          // The bound, exactly, with the stored parameters and the float32 output.
          if (Math.abs(x - output) > step / 2) violations.push(`|${x} − ${output}| > ${step / 2}`);
        }
        expect(violations).toEqual([]);
        // Untouched between strided positions.
        if (stride > 1 && length > 1) expect(target[offset + 1]).toBe(99);
      }),
      { numRuns: 800 },
    );
  });

  it('fused quantizeAndPackGroup / unpackAndDequantizeGroup match the unfused path bit for bit', () => {
    fc.assert(
      fc.property(groupCaseArbitrary, fc.integer({ min: 0, max: 3 }), (testCase, byteOffset) => {
        const { bits, values, stride, offset } = testCase;
        const length = values.length;
        const source = stridedSource(testCase);
        const excluded = excludedMask(testCase);
        const codes = new Uint8Array(length);
        const parameters = new Float32Array(2);
        quantizeGroup(source, offset, length, stride, bits, codes, 0, parameters, 0, excluded);
        const expectedBytes = new Uint8Array(packedByteLength(length, bits));
        packCodes(codes, 0, length, bits, expectedBytes, 0);

        const packed = new Uint8Array(byteOffset + expectedBytes.length + 1).fill(0x5a);
        const fusedParameters = new Float32Array(3).fill(3);
        quantizeAndPackGroup(source, offset, length, stride, bits, packed, byteOffset, fusedParameters, 1, excluded);
        expect(Array.from(fusedParameters)).toEqual([3, parameters[0], parameters[1]]);
        expect(packed.subarray(byteOffset, byteOffset + expectedBytes.length)).toEqual(expectedBytes);
        expect(packed[packed.length - 1]).toBe(0x5a);

        for (const targetStride of [1, stride + 1]) {
          const expected = new Float32Array(offset + length * targetStride);
          dequantizeGroup(codes, 0, length, parameters[0] as number, parameters[1] as number, expected, offset, targetStride);
          const fused = new Float32Array(offset + length * targetStride);
          unpackAndDequantizeGroup(packed, byteOffset, length, bits, parameters[0] as number, parameters[1] as number, fused, offset, targetStride);
          expect(fused).toEqual(expected);
        }
      }),
      { numRuns: 800 },
    );
  });

  it('reconstructs degenerate (all equal) groups within max(2^-25, one float32 ulp)', () => {
    for (const bits of [1, 2, 3, 4, 5, 6, 7, 8]) {
      for (const value of [0, 0.25, -3.5, 1000, 65504, -65504, 2 ** -24, 6e-8, 1000.3, -0.1]) {
        const x = Math.fround(value);
        const source = new Float32Array(64).fill(x);
        const codes = new Uint8Array(64);
        const parameters = new Float32Array(2);
        quantizeGroup(source, 0, 64, 1, bits, codes, 0, parameters, 0);
        const step = parameters[1] as number;
        const ulp = x === 0 ? 0 : 2 ** (Math.floor(Math.log2(Math.abs(x))) - 23);
        const target = new Float32Array(64);
        dequantizeGroup(codes, 0, 64, parameters[0] as number, step, target, 0, 1);
        for (const output of target) expect(Math.abs(output - x)).toBeLessThanOrEqual(step / 2);
        if (roundToFloat16(x) === x) {
          // fp16-exact constants: step is the smallest fp16 or two float32 ulps, so the error is tiny.
          expect(step).toBe(Math.max(FLOAT16_MIN_POSITIVE, 2 * ulp));
          for (const output of target) expect(Math.abs(output - x)).toBeLessThanOrEqual(Math.max(2 ** -25, ulp));
        }
      }
    }
  });

  it('treats a fully excluded group as the zero group', () => {
    const source = new Float32Array([5, -5]);
    const codes = new Uint8Array(2);
    const parameters = new Float32Array(2);
    quantizeGroup(source, 0, 2, 1, 3, codes, 0, parameters, 0, new Uint8Array([1, 1]));
    expect(Array.from(parameters)).toEqual([0, FLOAT16_MIN_POSITIVE]);
    expect(Array.from(codes)).toEqual([7, 0]);
  });

  it('computeGroupParameters agrees with quantizeGroup', () => {
    const source = new Float32Array([0.3, -1.7, 2.2, 9.1, -0.01]);
    const excluded = new Uint8Array([0, 0, 0, 1, 0]);
    const expected = new Float32Array(2);
    quantizeGroup(source, 0, 5, 1, 3, new Uint8Array(5), 0, expected, 0, excluded);
    const parameters = new Float32Array(2);
    computeGroupParameters(source, 0, 5, 1, 3, parameters, 0, excluded);
    expect(parameters).toEqual(expected);
    expect(parameters[0]).toBe(roundDownToFloat16(Math.fround(-1.7)));
  });
});
