import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HadamardRotation } from './hadamard-rotation.js';

const dimensions = fc.constantFrom(1, 2, 4, 8, 64, 256);

function vectors(dimension: number, count: number) {
  return fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), {
    minLength: dimension * count,
    maxLength: dimension * count,
  });
}

const dot = (a: Float32Array, b: Float32Array, start: number, n: number): number => {
  let sum = 0;
  for (let index = start; index < start + n; index++) sum += (a[index] as number) * (b[index] as number);
  return sum;
};

describe('HadamardRotation', () => {
  it('inverse undoes forward, in place and out of place', () => {
    fc.assert(
      fc.property(
        dimensions.chain((dimension) => fc.tuple(fc.constant(dimension), fc.integer({ min: 1, max: 3 }))).chain(([dimension, count]) =>
          fc.tuple(fc.constant(dimension), fc.constant(count), vectors(dimension, count)),
        ),
        ([dimension, count, values]) => {
          const rotation = new HadamardRotation(dimension);
          const input = Float32Array.from(values);
          const rotated = new Float32Array(input.length);
          rotation.forward(input, rotated, count);
          const back = new Float32Array(input.length);
          rotation.inverse(rotated, back, count);
          const inPlace = input.slice();
          rotation.forward(inPlace, inPlace, count);
          expect(inPlace).toEqual(rotated);
          rotation.inverse(inPlace, inPlace, count);
          for (let index = 0; index < input.length; index++) {
            expect(Math.abs((back[index] as number) - (input[index] as number))).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(input[index] as number)) * Math.log2(2 * dimension));
            expect(inPlace[index]).toBeCloseTo(back[index] as number, 5);
          }
        },
      ),
    );
  });

  it('keeps dot products and norms (it is orthogonal)', () => {
    fc.assert(
      fc.property(
        dimensions.chain((dimension) => fc.tuple(fc.constant(dimension), vectors(dimension, 1), vectors(dimension, 1))),
        ([dimension, first, second]) => {
          const rotation = new HadamardRotation(dimension);
          const a = Float32Array.from(first);
          const b = Float32Array.from(second);
          const ra = new Float32Array(dimension);
          const rb = new Float32Array(dimension);
          rotation.forward(a, ra, 1);
          rotation.forward(b, rb, 1);
          const scale = Math.sqrt(dot(a, a, 0, dimension) * dot(b, b, 0, dimension)) + 1;
          expect(Math.abs(dot(ra, rb, 0, dimension) - dot(a, b, 0, dimension))).toBeLessThanOrEqual(1e-5 * scale * dimension);
          expect(Math.abs(dot(ra, ra, 0, dimension) - dot(a, a, 0, dimension))).toBeLessThanOrEqual(1e-5 * (dot(a, a, 0, dimension) + 1) * dimension);
        },
      ),
    );
  });

  it('spreads a single-channel outlier over every coordinate', () => {
    const rotation = new HadamardRotation(64);
    const spike = new Float32Array(64);
    spike[17] = 64;
    const rotated = new Float32Array(64);
    rotation.forward(spike, rotated, 1);
    for (const value of rotated) expect(Math.abs(value)).toBeCloseTo(8, 5);
  });

  it('is the same rotation for the same seed and a different one for another seed', () => {
    const input = Float32Array.from({ length: 16 }, (_, index) => index - 7.5);
    const first = new Float32Array(16);
    const again = new Float32Array(16);
    const other = new Float32Array(16);
    new HadamardRotation(16).forward(input, first, 1);
    new HadamardRotation(16).forward(input, again, 1);
    new HadamardRotation(16, 12345).forward(input, other, 1);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('rejects dimensions that are not powers of two and short buffers, with typed errors', () => {
    for (const dimension of [0, 3, 48, 1.5, -4]) {
      let caught: unknown;
      try {
        new HadamardRotation(dimension);
      } catch (error) {
        caught = error;
      }
      expect(isQaqError(caught) && caught.code === 'invalid-rotation-dimension').toBe(true);
    }
    const rotation = new HadamardRotation(8);
    expect(() => rotation.forward(new Float32Array(8), new Float32Array(8), 2)).toThrow(/needs 16 floats/);
  });
});
