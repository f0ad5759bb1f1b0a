import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QaqError } from '@qaq/errors';
import { searchClippedParameters, squaredError } from './clipped-range.js';
import { FLOAT16_MIN_POSITIVE, roundToFloat16 } from './float16.js';
import { quantizeAndPackGroup } from './quantize-and-pack.js';
import { unpackAndDequantizeGroup } from './unpack-and-dequantize.js';
import { excludedMask, groupCaseArbitrary, stridedSource } from './quantizer.test-utils.js';
import { clippedErrorRatio, gaussianGroup, roundTrip, summedSquares } from './clipped-range.test-utils.js';

describe("least-squares ranges ('least-squares')", () => {
  it('never has more squared error than min–max, with fp16-exact parameters and step/2 inside its range', () => {
    fc.assert(
      fc.property(groupCaseArbitrary, (testCase) => {
        const { bits, values, stride, offset } = testCase;
        const source = stridedSource(testCase);
        const excluded = excludedMask(testCase);
        const clipped = new Float32Array(2);
        const minMax = new Float32Array(2);
        searchClippedParameters(source, offset, values.length, stride, bits, excluded, clipped, 0);
        quantizeAndPackGroup(source, offset, values.length, stride, bits, new Uint8Array(values.length), 0, minMax, 0, excluded);
        const [minimum, step] = clipped as unknown as [number, number];
        expect(roundToFloat16(minimum)).toBe(minimum);
        expect(roundToFloat16(step)).toBe(step);
        expect(step).toBeGreaterThanOrEqual(FLOAT16_MIN_POSITIVE);
        const clippedError = squaredError(source, offset, values.length, stride, bits, excluded, minimum, step);
        const minMaxError = squaredError(source, offset, values.length, stride, bits, excluded, minMax[0]!, minMax[1]!);
        expect(clippedError).toBeLessThanOrEqual(minMaxError);
        // Inside the chosen range the min–max guarantee still holds.
        const packed = new Uint8Array(Math.ceil((values.length * bits) / 8));
        const parameters = new Float32Array(2);
        quantizeAndPackGroup(source, offset, values.length, stride, bits, packed, 0, parameters, 0, excluded, 'least-squares');
        expect(parameters[0]).toBe(minimum);
        expect(parameters[1]).toBe(step);
        const reconstruction = new Float32Array(values.length);
        unpackAndDequantizeGroup(packed, 0, values.length, bits, minimum, step, reconstruction, 0);
        const top = minimum + 2 ** bits * step;
        values.forEach((value, index) => {
          if (value >= minimum && value <= top) expect(Math.abs(value - (reconstruction[index] as number))).toBeLessThanOrEqual(step / 2);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('cuts the squared error of bell-shaped groups at 2 and 3 bits and leaves 5 bits and more at min–max', () => {
    for (const headScales of [[1, 1, 1], [1, 2, 0.5]]) {
      const ratios = [2, 3, 4].map((bits) => clippedErrorRatio(bits, headScales));
      // bench/clipped-range.ts prints the measured ratios.
      expect(ratios[0]).toBeLessThan(0.8);
      expect(ratios[1]).toBeLessThan(0.92);
      expect(ratios[2]).toBeLessThan(1);
    }
    for (const bits of [5, 6, 7, 8]) {
      const values = gaussianGroup(bits, [1, 2, 0.5]);
      const clipped = roundTrip(values, bits, 'least-squares');
      const minMax = roundTrip(values, bits, 'min-max');
      expect([clipped.minimum, clipped.step]).toEqual([minMax.minimum, minMax.step]);
    }
  });

  it('leaves excluded values (outliers kept elsewhere) out of the choice', () => {
    const values = gaussianGroup(5, [1, 1, 1]);
    values[3] = 50;
    const excluded = new Uint8Array(values.length);
    excluded[3] = 1;
    const withExclusion = roundTrip(values, 2, 'least-squares', excluded);
    // The outlier does not stretch the range (it would make the step ≈ 13; about 1 for the unit normals left).
    expect(withExclusion.step).toBeLessThan(2);
    expect(summedSquares(values, withExclusion.reconstruction, excluded)).toBeLessThanOrEqual(
      summedSquares(values, roundTrip(values, 2, 'min-max', excluded).reconstruction, excluded),
    );
  });

  it('refuses an unknown range with a typed error and writes nothing', () => {
    const packed = new Uint8Array(4).fill(7);
    const parameters = new Float32Array(2).fill(3);
    const call = () => quantizeAndPackGroup(new Float32Array(8), 0, 8, 1, 2, packed, 0, parameters, 0, null, 'widest' as never);
    expect(call).toThrow(QaqError);
    expect(call).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect([...packed]).toEqual([7, 7, 7, 7]);
    expect([...parameters]).toEqual([3, 3]);
  });
});
