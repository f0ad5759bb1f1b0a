import { fixtureModel } from '@qaq/backend-conformance';
import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { createMockBackend, decodeOnnxModel, type Kernel } from './index.js';
import { testModelHex } from './models.test-utils.js';

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

describe('decodeOnnxModel', () => {
  it('reads inputs, outputs, nodes, attributes and initializers in both encodings', () => {
    const model = decodeOnnxModel(hexBytes(testModelHex.linearSoftmax));
    expect(model.inputs).toEqual([{ name: 'x', dataType: 'float32', dimensions: ['rows', 3] }]);
    expect(model.outputs).toEqual([{ name: 'y', dataType: 'float32', dimensions: ['rows', 2] }]);
    expect(model.nodes.map((node) => [node.opType, node.name, node.inputs, node.outputs])).toEqual([
      ['MatMul', 'project', ['x', 'weight'], ['projected']],
      ['Add', 'shift', ['projected', 'bias'], ['shifted']],
      ['Softmax', 'normalize', ['shifted'], ['y']],
    ]);
    expect(model.nodes[2]?.attributes.get('axis')).toBe(-2n);
    expect(Array.from(model.initializers.get('weight')?.data as Float32Array)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(Array.from(model.initializers.get('bias')?.data as Float32Array)).toEqual([0.5, -0.25]);
  });

  it('rejects bytes that are not a model', () => {
    for (const bytes of [new Uint8Array(0), new Uint8Array([0xff, 0xff, 0xff]), fixtureModel('add').subarray(0, 40)]) {
      let caught: unknown;
      try {
        decodeOnnxModel(bytes);
      } catch (error) {
        caught = error;
      }
      expect(isQaqError(caught, 'invalid-model')).toBe(true);
    }
  });
});

describe('createMockBackend', () => {
  it('evaluates a graph with weights, broadcasting and a negative softmax axis', async () => {
    const backend = createMockBackend();
    const session = await backend.createSession(hexBytes(testModelHex.linearSoftmax));
    const x = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const outputs = await session.run({ x: backend.createTensor('float32', x, [3, 3]) });
    // projected rows are the weight rows; + bias; softmax down each column.
    const shifted = [[0.5, 0], [1, 0.5], [1.5, 1]];
    const expected: number[] = [];
    for (let row = 0; row < 3; row += 1) {
      for (let column = 0; column < 2; column += 1) {
        const total = shifted.reduce((sum, values) => sum + Math.exp(values[column] ?? 0), 0);
        expected.push(Math.exp(shifted[row]?.[column] ?? 0) / total);
      }
    }
    const actual = Array.from((await outputs['y']?.read()) as Float32Array);
    actual.forEach((value, index) => expect(value).toBeCloseTo(expected[index] ?? Number.NaN, 6));
  });

  it('runs user kernels for custom-domain ops and claims them', async () => {
    const scale: Kernel = ([input], node) => {
      const factor = BigInt(node.attributes.get('factor') as bigint);
      const data = (input?.data as BigInt64Array).map((value) => value * factor);
      return [{ dataType: 'int64', dimensions: input?.dimensions ?? [], data }];
    };
    const backend = createMockBackend({ kernels: { 'qaq.test:Scale': scale } });
    expect(backend.capabilities.operators).toContain('qaq.test:Scale');
    const session = await backend.createSession(hexBytes(testModelHex.customOp));
    const outputs = await session.run({ x: backend.createTensor('int64', new BigInt64Array([1n, -2n, 3n, 2n ** 40n]), [2, 2]) });
    expect(Array.from((await outputs['out']?.read()) as BigInt64Array)).toEqual([10n, 1n, 16n, 3n * 2n ** 40n + 7n]);
    expect(session.runs).toEqual([{ feeds: ['x'], fetches: ['out'], preallocated: [] }]);
  });

  it("says which operator it lacks with 'unsupported-operator'", async () => {
    const backend = createMockBackend();
    const session = await backend.createSession(hexBytes(testModelHex.customOp));
    await expect(session.run({ x: backend.createTensor('int64', new BigInt64Array(4), [2, 2]) })).rejects.toMatchObject({
      code: 'unsupported-operator',
      details: { operator: 'qaq.test:Scale' },
    });
  });

  it('simulates providers: falls back along the preference list and refuses missing ones', async () => {
    const backend = createMockBackend({
      probes: [
        { name: 'cuda', available: false, reason: 'missing-library', missing: ['libcudnn.so.9'], details: 'no cuDNN' },
        { name: 'cpu', available: true },
      ],
    });
    expect(await backend.probe()).toHaveLength(2);
    const session = await backend.createSession(fixtureModel('add'), { executionProviders: ['cuda', 'cpu'] });
    expect(session.provider).toBe('cpu');
    await expect(backend.createSession(fixtureModel('add'), { executionProviders: ['cuda'] })).rejects.toMatchObject({
      code: 'provider-unavailable',
      details: { probes: [{ name: 'cuda', missing: ['libcudnn.so.9'] }] },
    });
    expect(backend.sessions).toEqual([session]);
  });

  it('never lets an output alias a feed, and checks every preallocated output before writing any', async () => {
    const backend = createMockBackend();
    const session = await backend.createSession(fixtureModel('multiOutput'));
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const x = backend.createTensor('float32', data, [2, 3]);
    const doubledData = new Float32Array(6).fill(-1);
    const doubled = backend.createTensor('float32', doubledData, [2, 3]);
    const badSquared = backend.createTensor('float32', new Float32Array(3), [1, 3]);
    await expect(session.run({ x }, { outputs: { doubled, squared: badSquared } })).rejects.toMatchObject({ code: 'invalid-output' });
    expect(Array.from(doubledData)).toEqual(new Array(6).fill(-1));
    const outputs = await session.run({ x }, { fetches: ['negated'] });
    data.fill(0);
    expect(Array.from((await outputs['negated']?.read()) as Float32Array)).toEqual([-1, -2, -3, -4, -5, -6]);
  });
});
