import { check, checkRejects, checkSameList } from '../assertions.js';
import { type ConformanceCheck, outputNumbers } from '../check.js';

export const outputChecks: ConformanceCheck[] = [
  {
    id: 'preallocated-outputs',
    title: 'preallocated outputs are written in place, run after run, and returned as the same tensor',
    fixtures: ['add'],
    capability: 'supportsPreallocatedOutputs',
    async run({ backend, openSession }) {
      const session = await openSession('add');
      const left = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
      const right = new Float32Array(8).fill(0.5);
      const a = backend.createTensor('float32', left, [2, 4]);
      const b = backend.createTensor('float32', right, [2, 4]);
      const sumData = new Float32Array(8).fill(Number.NaN);
      const sum = backend.createTensor('float32', sumData, [2, 4]);
      const first = await session.run({ a, b }, { outputs: { sum } });
      check(first['sum'] === sum, 'the returned output must be the preallocated tensor itself');
      check(sum.data === sumData, 'the preallocated tensor must keep its array');
      checkSameList(Array.from(sumData), [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5], 'values written in place');
      right.fill(-1);
      await session.run({ a, b }, { outputs: { sum } });
      checkSameList(Array.from(sumData), [0, 1, 2, 3, 4, 5, 6, 7], 'values written in place on the second run');
      const wrongShape = backend.createTensor('float32', new Float32Array(12), [3, 4]);
      await checkRejects(() => session.run({ a, b }, { outputs: { sum: wrongShape } }), 'invalid-output', 'preallocated output of the wrong shape');
      const wrongType = backend.createTensor('int32', new Int32Array(8), [2, 4]);
      await checkRejects(() => session.run({ a, b }, { outputs: { sum: wrongType } }), 'invalid-output', 'preallocated output of the wrong type');
      await checkRejects(() => session.run({ a, b }, { outputs: { nothing: sum } }), 'invalid-fetch', 'preallocated output with an unknown name');
    },
  },
  {
    id: 'fetch-subset',
    title: 'fetches returns exactly the outputs asked for; unknown names are rejected',
    fixtures: ['multiOutput'],
    async run({ backend, openSession }) {
      const session = await openSession('multiOutput');
      checkSameList(session.outputs.map((output) => output.name), ['doubled', 'squared', 'negated'], 'output names');
      const x = backend.createTensor('float32', new Float32Array([1, -2, 3, -4, 5, -6]), [2, 3]);
      const all = await session.run({ x });
      checkSameList(Object.keys(all).sort(), ['doubled', 'negated', 'squared'], 'outputs without fetches');
      const one = await session.run({ x }, { fetches: ['squared'] });
      checkSameList(Object.keys(one), ['squared'], 'outputs with fetches [squared]');
      checkSameList(Array.from(await outputNumbers(one, 'squared')), [1, 4, 9, 16, 25, 36], 'squared');
      const two = await session.run({ x }, { fetches: ['negated', 'doubled'] });
      checkSameList(Object.keys(two).sort(), ['doubled', 'negated'], 'outputs with fetches [negated, doubled]');
      checkSameList(Array.from(await outputNumbers(two, 'negated')), [-1, 2, -3, 4, -5, 6], 'negated');
      checkSameList(Array.from(await outputNumbers(two, 'doubled')), [2, -4, 6, -8, 10, -12], 'doubled');
      await checkRejects(() => session.run({ x }, { fetches: ['tripled'] }), 'invalid-fetch', 'unknown fetch name');
    },
  },
];
