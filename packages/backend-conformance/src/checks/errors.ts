import { check, checkRejects, checkSameList } from '../assertions.js';
import { type ConformanceCheck, outputNumbers } from '../check.js';
import { fixtureModel } from '../fixtures.js';

export const errorChecks: ConformanceCheck[] = [
  {
    id: 'invalid-model',
    title: "bytes that are not a model give QaqError('invalid-model')",
    fixtures: [],
    async run({ backend, sessionOptions }) {
      await checkRejects(() => backend.createSession(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), sessionOptions), 'invalid-model', 'garbage bytes');
      await checkRejects(() => backend.createSession(new Uint8Array(0), sessionOptions), 'invalid-model', 'empty bytes');
      const truncated = fixtureModel('add').subarray(0, 60);
      await checkRejects(() => backend.createSession(truncated, sessionOptions), 'invalid-model', 'truncated model');
    },
  },
  {
    id: 'unknown-provider',
    title: "asking only for a provider the backend does not have gives QaqError('provider-unavailable')",
    fixtures: ['add'],
    async run({ backend }) {
      await checkRejects(
        () => backend.createSession(fixtureModel('add'), { executionProviders: ['no-such-provider'] }),
        'provider-unavailable',
        'unknown provider',
      );
    },
  },
  {
    id: 'invalid-feeds',
    title: "unknown, missing, mistyped and misshaped feeds give QaqError('invalid-feed') and leave the session usable",
    fixtures: ['add'],
    async run({ backend, openSession }) {
      const session = await openSession('add');
      const tensor = (dimensions: number[]) =>
        backend.createTensor('float32', new Float32Array(dimensions.reduce((product, size) => product * size, 1)).fill(1), dimensions);
      const a = tensor([2, 4]);
      const b = tensor([2, 4]);
      await checkRejects(() => session.run({ a, b, c: tensor([2, 4]) }), 'invalid-feed', 'unknown feed name');
      await checkRejects(() => session.run({ a }), 'invalid-feed', 'missing feed');
      await checkRejects(() => session.run({ a, b: backend.createTensor('int32', new Int32Array(8), [2, 4]) }), 'invalid-feed', 'wrong element type');
      await checkRejects(() => session.run({ a, b: tensor([8]) }), 'invalid-feed', 'wrong rank');
      await checkRejects(() => session.run({ a: tensor([2, 3]), b: tensor([2, 3]) }), 'invalid-feed', 'wrong fixed dimension');
      await checkRejects(() => session.run({ a, b: tensor([3, 4]) }), 'invalid-feed', "'batch' bound to 2 and 3");
      const disposed = tensor([2, 4]);
      disposed.dispose();
      await checkRejects(() => session.run({ a, b: disposed }), 'tensor-disposed', 'disposed feed');
      const outputs = await session.run({ a, b });
      checkSameList(Array.from(await outputNumbers(outputs, 'sum')), new Array<number>(8).fill(2), 'sum after rejected runs');
    },
  },
  {
    id: 'session-disposed',
    title: "run after dispose() gives QaqError('session-disposed'); dispose() is idempotent",
    fixtures: ['add'],
    async run({ backend, openSession }) {
      const session = await openSession('add');
      check(!session.disposed, 'a new session must not be disposed');
      const a = backend.createTensor('float32', new Float32Array(4), [1, 4]);
      const outputs = await session.run({ a, b: a });
      await session.dispose();
      check(session.disposed, 'disposed must be true after dispose()');
      await session.dispose();
      await checkRejects(() => session.run({ a, b: a }), 'session-disposed', 'run after dispose');
      checkSameList(Array.from(await outputNumbers(outputs, 'sum')), [0, 0, 0, 0], 'outputs stay readable after the session is disposed');
    },
  },
];
