import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { quantizeAndPackGroup } from './quantize-and-pack.js';
import { unpackAndDequantizeGroup } from './unpack-and-dequantize.js';
import { computeGroupParameters, dequantizeGroup, quantizeGroup } from './quantizer.js';

function expectCode(action: () => void, code: string): void {
  try {
    action();
  } catch (error) {
    if (isQaqError(error, code)) return;
    throw error;
  }
  expect.fail(`expected QaqError('${code}')`);
}

/** Fresh outputs filled with sentinels, and a check that none changed. */
function outputs(length: number): { codes: Uint8Array; packed: Uint8Array; parameters: Float32Array; untouched: () => void } {
  const codes = new Uint8Array(length).fill(0x77);
  const packed = new Uint8Array(length).fill(0x66);
  const parameters = new Float32Array(2).fill(-9);
  return {
    codes,
    packed,
    parameters,
    untouched: () => {
      expect(codes.every((byte) => byte === 0x77)).toBe(true);
      expect(packed.every((byte) => byte === 0x66)).toBe(true);
      expect(Array.from(parameters)).toEqual([-9, -9]);
    },
  };
}

/** Runs both quantizing entry points with the same arguments and expects the same error and no writes. */
function expectQuantizeError(
  source: Float32Array,
  offset: number,
  length: number,
  stride: number,
  bits: number,
  code: string,
  excluded: Uint8Array | null = null,
): void {
  const out = outputs(Math.max(length, 1) + 2);
  expectCode(() => quantizeGroup(source, offset, length, stride, bits, out.codes, 0, out.parameters, 0, excluded), code);
  expectCode(() => quantizeAndPackGroup(source, offset, length, stride, bits, out.packed, 0, out.parameters, 0, excluded), code);
  expectCode(() => computeGroupParameters(source, offset, length, stride, bits, out.parameters, 0, excluded), code);
  out.untouched();
}

describe('quantizer validation', () => {
  it('rejects NaN and ±Infinity anywhere in the group, excluded elements included', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      expectQuantizeError(new Float32Array([1, 2, bad, 4]), 0, 4, 1, 4, 'non-finite-value');
      expectQuantizeError(new Float32Array([1, 0, 2, 0, bad]), 0, 3, 2, 4, 'non-finite-value');
      expectQuantizeError(new Float32Array([1, bad, 3]), 0, 3, 1, 2, 'non-finite-value', new Uint8Array([0, 1, 0]));
    }
    // A NaN outside the strided group is not its business.
    const out = outputs(3);
    quantizeGroup(new Float32Array([1, Number.NaN, 2, Number.NaN, 3]), 0, 3, 2, 4, out.codes, 0, out.parameters, 0);
  });

  it('rejects values beyond the fp16 range', () => {
    expectQuantizeError(new Float32Array([1, 70000]), 0, 2, 1, 8, 'out-of-fp16-range');
    expectQuantizeError(new Float32Array([-65505, 0]), 0, 2, 1, 8, 'out-of-fp16-range');
  });

  it('rejects empty groups', () => {
    expectQuantizeError(new Float32Array(4), 0, 0, 1, 4, 'empty-group');
    expectCode(() => dequantizeGroup(new Uint8Array(4), 0, 0, 0, 1, new Float32Array(4), 0, 1), 'empty-group');
  });

  it('rejects bit widths outside 1..8 (16 is passthrough, not a code width)', () => {
    for (const bits of [0, -1, 9, 16, 32, 2.5, Number.NaN]) {
      expectQuantizeError(new Float32Array(4), 0, 4, 1, bits, 'invalid-bit-width');
      expectCode(() => unpackAndDequantizeGroup(new Uint8Array(8), 0, 4, bits, 0, 1, new Float32Array(4), 0), 'invalid-bit-width');
    }
  });

  it('rejects offsets, lengths and strides that do not fit the buffers', () => {
    const source = new Float32Array(10);
    expectQuantizeError(source, 0, 11, 1, 4, 'out-of-bounds');
    expectQuantizeError(source, 1, 10, 1, 4, 'out-of-bounds');
    expectQuantizeError(source, 0, 6, 2, 4, 'out-of-bounds');
    expectQuantizeError(source, -1, 2, 1, 4, 'out-of-bounds');
    expectQuantizeError(source, 0.5, 2, 1, 4, 'out-of-bounds');
    expectQuantizeError(source, 0, 2, 0, 4, 'out-of-bounds');
    expectQuantizeError(source, 0, 4, 1, 4, 'out-of-bounds', new Uint8Array(3));
    const parameters = new Float32Array(2).fill(-9);
    expectCode(() => quantizeGroup(source, 0, 4, 1, 4, new Uint8Array(3), 0, parameters, 0), 'out-of-bounds');
    expectCode(() => quantizeGroup(source, 0, 4, 1, 4, new Uint8Array(4), 0, new Float32Array(2), 1), 'out-of-bounds');
    expectCode(() => quantizeAndPackGroup(source, 0, 5, 1, 3, new Uint8Array(1), 0, parameters, 0), 'out-of-bounds');
    expect(Array.from(parameters)).toEqual([-9, -9]);

    const target = new Float32Array(4).fill(8);
    expectCode(() => dequantizeGroup(new Uint8Array(3), 0, 4, 0, 1, target, 0, 1), 'out-of-bounds');
    expectCode(() => dequantizeGroup(new Uint8Array(4), 0, 3, 0, 1, target, 0, 2), 'out-of-bounds');
    expectCode(() => unpackAndDequantizeGroup(new Uint8Array(1), 0, 3, 3, 0, 1, target, 0), 'out-of-bounds');
    expectCode(() => unpackAndDequantizeGroup(new Uint8Array(2), 0, 3, 3, 0, 1, target, 2), 'out-of-bounds');
    expect(Array.from(target)).toEqual([8, 8, 8, 8]);
  });

  it('rejects non-finite or non-positive parameters when dequantizing', () => {
    const target = new Float32Array(2).fill(8);
    for (const [minimum, step] of [
      [Number.NaN, 1],
      [0, 0],
      [0, -1],
      [Infinity, 1],
      [0, Infinity],
    ] as const) {
      expectCode(() => dequantizeGroup(new Uint8Array(2), 0, 2, minimum, step, target, 0, 1), 'invalid-parameters');
      expectCode(() => unpackAndDequantizeGroup(new Uint8Array(2), 0, 2, 4, minimum, step, target, 0), 'invalid-parameters');
    }
    expect(Array.from(target)).toEqual([8, 8]);
  });
});
