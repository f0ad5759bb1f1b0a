import fc from 'fast-check';
import { computeGroupParameters, float16BitsToFloat32, quantizeAndPackGroup, unpackAndDequantizeGroup } from '@qaq/quantization';
import { describe, expect, it } from 'vitest';
import { mergeOutliers } from './merge-outliers.js';
import { outlierCountPerSide } from './outlier-count.js';
import { selectOutliers } from './select-outliers.js';

/** fp16-exact values (so stored outliers are exact), with plenty of ties. */
const fp16ExactValue = fc.oneof(
  fc.integer({ min: -2048, max: 2048 }).map((k) => k / 8),
  fc.integer({ min: -1024, max: 1024 }).map((k) => k * 32),
  fc.integer({ min: -3, max: 3 }),
);

const groupArbitrary = fc
  .record({
    length: fc.integer({ min: 1, max: 600 }),
    stride: fc.integer({ min: 1, max: 3 }),
    offset: fc.integer({ min: 0, max: 4 }),
    outOffset: fc.integer({ min: 0, max: 3 }),
    fraction: fc.oneof(fc.constant(0.01), fc.double({ min: 0, max: 0.3, noNaN: true })),
  })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      values: fc.array(fp16ExactValue, { minLength: shape.length, maxLength: shape.length }),
    }),
  );

function layOut(values: readonly number[], offset: number, stride: number): Float32Array {
  const source = new Float32Array(offset + values.length * stride).fill(1e4);
  values.forEach((value, index) => {
    source[offset + index * stride] = value;
  });
  return source;
}

/** Reference: sort indices by (value, index); the first and last perSide are the outliers. */
function referenceOutliers(values: readonly number[], perSide: number): number[] {
  const order = values.map((_, index) => index).sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
  return [...order.slice(0, perSide), ...order.slice(order.length - perSide)].sort((a, b) => a - b);
}

describe('selectOutliers', () => {
  it('selects the perSide smallest and largest by (value, index), sorted, with an exact mask', () => {
    fc.assert(
      fc.property(groupArbitrary, ({ shape: { length, stride, offset, outOffset, fraction }, values }) => {
        const perSide = outlierCountPerSide(length, fraction);
        const source = layOut(values, offset, stride);
        const positions = new Uint16Array(outOffset + 2 * perSide + 1).fill(0xbeef);
        const fp16Values = new Uint16Array(outOffset + 2 * perSide + 1).fill(0xbeef);
        const excluded = new Uint8Array(length + 1).fill(7);
        const count = selectOutliers(source, offset, length, stride, perSide, positions, fp16Values, outOffset, excluded);
        expect(count).toBe(2 * perSide);
        const selected = Array.from(positions.subarray(outOffset, outOffset + count));
        expect(selected).toEqual(referenceOutliers(values, perSide));
        expect(selected.map((_, k) => float16BitsToFloat32(fp16Values[outOffset + k] as number))).toEqual(
          selected.map((position) => values[position]),
        );
        const expectedMask = new Uint8Array(length);
        for (const position of selected) expectedMask[position] = 1;
        expect(excluded.subarray(0, length)).toEqual(expectedMask);
        expect(excluded[length]).toBe(7);
        expect(positions[outOffset + count]).toBe(0xbeef);
        if (outOffset > 0) expect(positions[outOffset - 1]).toBe(0xbeef);
      }),
      { numRuns: 500 },
    );
  });

  it('round trip: outliers come back exactly, the range excludes them, the rest stays within step/2', () => {
    fc.assert(
      fc.property(groupArbitrary, fc.integer({ min: 1, max: 8 }), ({ shape: { length, stride, offset, fraction }, values }, bits) => {
        const perSide = outlierCountPerSide(length, fraction);
        const source = layOut(values, offset, stride);
        const positions = new Uint16Array(2 * perSide);
        const fp16Values = new Uint16Array(2 * perSide);
        const excluded = new Uint8Array(length);
        const count = selectOutliers(source, offset, length, stride, perSide, positions, fp16Values, 0, excluded);
        const packed = new Uint8Array(Math.ceil((length * bits) / 8));
        const parameters = new Float32Array(2);
        quantizeAndPackGroup(source, offset, length, stride, bits, packed, 0, parameters, 0, excluded);
        const minimum = parameters[0] as number;
        const step = parameters[1] as number;

        // The range is that of the inliers alone.
        const inliers = new Float32Array(values.filter((_, index) => excluded[index] === 0));
        if (inliers.length > 0) {
          const inlierParameters = new Float32Array(2);
          computeGroupParameters(inliers, 0, inliers.length, 1, bits, inlierParameters, 0);
          expect(parameters).toEqual(inlierParameters);
        }

        const target = new Float32Array(offset + length * stride).fill(-1);
        unpackAndDequantizeGroup(packed, 0, length, bits, minimum, step, target, offset, stride);
        mergeOutliers(target, offset, stride, positions, fp16Values, 0, count);
        let worstInlierError = 0;
        for (let index = 0; index < length; index += 1) {
          const original = values[index] as number;
          const restored = target[offset + index * stride] as number;
          if (excluded[index] === 1) expect(restored).toBe(original);
          else worstInlierError = Math.max(worstInlierError, Math.abs(original - restored));
        }
        expect(worstInlierError).toBeLessThanOrEqual(step / 2);
      }),
      { numRuns: 400 },
    );
  });

  it('breaks ties deterministically: lowest indices are the smallest, highest the largest', () => {
    const source = new Float32Array([5, 5, 5, 5, 5, 5]);
    const positions = new Uint16Array(4);
    const values = new Uint16Array(4);
    const excluded = new Uint8Array(6);
    expect(selectOutliers(source, 0, 6, 1, 2, positions, values, 0, excluded)).toBe(4);
    expect(Array.from(positions)).toEqual([0, 1, 4, 5]);
    expect(Array.from(excluded)).toEqual([1, 1, 0, 0, 1, 1]);
  });

  it('rounds non-fp16 values to nearest fp16 and handles perSide 0', () => {
    const source = new Float32Array([0.1, 3, -7.3, 2]);
    const positions = new Uint16Array(2);
    const values = new Uint16Array(2);
    const excluded = new Uint8Array(4).fill(1);
    expect(selectOutliers(source, 0, 4, 1, 1, positions, values, 0, excluded)).toBe(2);
    expect(Array.from(positions)).toEqual([1, 2]);
    expect(float16BitsToFloat32(values[1] as number)).toBeCloseTo(-7.3, 2);
    expect(selectOutliers(source, 0, 4, 1, 0, positions, values, 0, excluded)).toBe(0);
    expect(Array.from(excluded)).toEqual([0, 0, 0, 0]);
  });

  it('validates everything before writing', () => {
    const positions = new Uint16Array(4).fill(9);
    const values = new Uint16Array(4).fill(9);
    const excluded = new Uint8Array(8).fill(9);
    const check = (action: () => unknown, code: string): void => {
      expect(action).toThrow(expect.objectContaining({ code }));
      expect(positions.every((value) => value === 9)).toBe(true);
      expect(values.every((value) => value === 9)).toBe(true);
      expect(excluded.every((value) => value === 9)).toBe(true);
    };
    const good = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    check(() => selectOutliers(new Float32Array([1, Number.NaN, 3, 4]), 0, 4, 1, 1, positions, values, 0, excluded), 'non-finite-value');
    check(() => selectOutliers(new Float32Array([1, 2, -Infinity, 4]), 0, 4, 1, 1, positions, values, 0, excluded), 'non-finite-value');
    check(() => selectOutliers(new Float32Array([1, 2, 1e6, 4]), 0, 4, 1, 1, positions, values, 0, excluded), 'out-of-fp16-range');
    check(() => selectOutliers(good, 0, 4, 1, 3, positions, values, 0, excluded), 'invalid-outlier-count');
    check(() => selectOutliers(good, 0, 4, 1, 1.5, positions, values, 0, excluded), 'invalid-outlier-count');
    check(() => selectOutliers(good, 0, 0, 1, 0, positions, values, 0, excluded), 'out-of-bounds');
    check(() => selectOutliers(good, 0, 5, 2, 1, positions, values, 0, excluded), 'out-of-bounds');
    check(() => selectOutliers(good, 0, 8, 1, 2, positions, values, 1, excluded), 'out-of-bounds');
    check(() => selectOutliers(good, 0, 8, 1, 1, positions, values, 0, new Uint8Array(7)), 'out-of-bounds');
  });
});

describe('mergeOutliers', () => {
  it('writes fp16 values at strided positions, accepts byte positions, and validates first', () => {
    const target = new Float32Array(10).fill(0);
    mergeOutliers(target, 1, 3, new Uint8Array([0, 2]), new Uint16Array([0x3c00, 0xc000]), 0, 2);
    expect(Array.from(target)).toEqual([0, 1, 0, 0, 0, 0, 0, -2, 0, 0]);
    const before = Array.from(target);
    expect(() => mergeOutliers(target, 1, 3, new Uint16Array([0, 3]), new Uint16Array([0x3c00, 0x3c00]), 0, 2)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    expect(() => mergeOutliers(target, 0, 1, new Uint16Array([0]), new Uint16Array([0]), 0, 2)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    expect(() => mergeOutliers(target, 0, 0, new Uint16Array([0]), new Uint16Array([0]), 0, 1)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    expect(Array.from(target)).toEqual(before);
  });
});
