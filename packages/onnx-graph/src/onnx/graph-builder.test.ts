import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { isQaqError } from '@qaq/errors';
import { GraphBuilder } from './graph-builder.js';
import { attribute } from './onnx-types.js';

describe('GraphBuilder', () => {
  it('produces a model onnxruntime loads and runs, with symbolic dimensions', async () => {
    const g = new GraphBuilder('test');
    const x = g.input('x', 'float32', [1, 'sequence', 4]);
    const weight = g.initializer('w', 'float32', [4, 3], Float32Array.from({ length: 12 }, (_, index) => index / 10));
    const product = g.op('MatMul', [x, weight]);
    const activated = g.op('Gelu', [g.op('Add', [product, g.float32([0.5])])], { approximate: attribute.string('tanh') });
    g.alias(activated, 'y');
    g.output('y', 'float32', [1, 'sequence', 3]);
    g.alias(g.op('Shape', [x], { start: attribute.int(1), end: attribute.int(2) }), 'length');
    g.output('length', 'int64', [1]);
    const model = g.toModel({ opsetImports: [{ domain: '', version: 21 }] });
    const session = await ort.InferenceSession.create(model);
    const input = Float32Array.from({ length: 8 }, (_, index) => index - 3);
    const result = await session.run({ x: new ort.Tensor('float32', input, [1, 2, 4]) });
    const y = result['y']!.data as Float32Array;
    const gelu = (value: number): number =>
      0.5 * value * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (value + 0.044715 * value ** 3)));
    for (let row = 0; row < 2; row++) {
      for (let column = 0; column < 3; column++) {
        let sum = 0.5;
        for (let k = 0; k < 4; k++) sum += input[row * 4 + k]! * ((k * 3 + column) / 10);
        expect(y[row * 3 + column]).toBeCloseTo(gelu(sum), 5);
      }
    }
    expect(Array.from(result['length']!.data as BigInt64Array)).toEqual([2n]);
    await session.release();
  });

  it('de-duplicates constants and rejects duplicate initializer names', () => {
    const g = new GraphBuilder('test');
    expect(g.int64([1, 2])).toBe(g.int64([1, 2]));
    expect(g.int64([1, 2])).not.toBe(g.int64([1, 2], [2, 1]));
    expect(g.float32([0.1])).toBe(g.float32([0.1]));
    g.initializer('w', 'float32', [1], new Float32Array(1));
    try {
      g.initializer('w', 'float32', [1], new Float32Array(1));
      expect.unreachable();
    } catch (error) {
      expect(isQaqError(error, 'duplicate-initializer')).toBe(true);
    }
  });

  it('names nodes by scope', () => {
    const g = new GraphBuilder('test');
    const name = g.scope('layers.0', () => g.scope('attention', () => g.op('Identity', ['x'])));
    expect(name).toMatch(/^layers\.0\/attention\/Identity_\d+:0$/);
  });
});
