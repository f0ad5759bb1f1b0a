import { describe, expect, it } from 'vitest';
import { isQaqError } from '@qaq/errors';
import { asSpecData, WebCpuTensor } from './web-tensor.js';

describe('asSpecData', () => {
  it('views float16 data of another array type (Float16Array in browsers) as raw bits without copying', () => {
    const memory = new ArrayBuffer(8);
    const other = new Int16Array(memory, 2, 3); // stands in for a Float16Array view
    const bits = asSpecData('float16', other);
    expect(bits).toBeInstanceOf(Uint16Array);
    expect(bits.buffer).toBe(memory);
    expect(bits.byteOffset).toBe(2);
    expect(bits.length).toBe(3);
  });

  it('leaves data already in the spec layout alone', () => {
    const floats = new Float32Array(2);
    expect(asSpecData('float32', floats)).toBe(floats);
    const halves = new Uint16Array(2);
    expect(asSpecData('float16', halves)).toBe(halves);
  });
});

describe('WebCpuTensor', () => {
  it('keeps the caller array and refuses use after dispose', async () => {
    const data = new Float32Array([1, 2]);
    const tensor = new WebCpuTensor('float32', data, [2]);
    expect(await tensor.read()).toBe(data);
    expect(tensor.ortTensor.data).toBe(data);
    tensor.dispose();
    await expect(tensor.read()).rejects.toSatisfy((error: unknown) => isQaqError(error, 'tensor-disposed'));
    expect(() => tensor.ortTensor).toThrow(/disposed/);
  });
});
