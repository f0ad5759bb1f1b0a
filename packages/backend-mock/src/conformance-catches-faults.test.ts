// The suite must fail real bugs: each case breaks one behaviour of the (passing) mock and expects exactly the
// matching check to fail.
import type { Backend, BackendSession } from '@qaq/backend-spec';
import { runConformanceChecks } from '@qaq/backend-conformance';
import { describe, expect, it } from 'vitest';
import { createMockBackend } from './index.js';
import type { Kernel } from './operators.js';
import { builtInKernels } from './operators.js';
import type { MockValue } from './onnx-model.js';

function wrapSessions(backend: Backend, wrap: (session: BackendSession) => BackendSession): Backend {
  return {
    ...backend,
    probe: () => backend.probe(),
    createTensor: (dataType, data, dimensions) => backend.createTensor(dataType, data, dimensions),
    createSession: async (model, options) => wrap(await backend.createSession(model, options)),
  };
}

function perturbed(kernel: Kernel, change: (value: number) => number): Kernel {
  return (inputs, node) =>
    kernel(inputs, node).map((value): MockValue => ({ ...value, data: (value.data as Float32Array).map(change) }));
}

async function failedChecks(backend: Backend): Promise<string[]> {
  const results = await runConformanceChecks(() => backend);
  return results.filter((result) => result.status === 'failed').map((result) => result.id);
}

describe('the conformance suite catches faults', () => {
  it('passes the unmodified mock', async () => {
    const results = await runConformanceChecks(() => createMockBackend());
    expect(results.filter((result) => result.status !== 'passed')).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(14);
  });

  it('fails numerics a few float32 ulps off', async () => {
    const add = builtInKernels['Add'] as Kernel;
    const matMul = builtInKernels['MatMul'] as Kernel;
    const softmax = builtInKernels['Softmax'] as Kernel;
    expect(await failedChecks(createMockBackend({ kernels: { Add: perturbed(add, (value) => value * (1 + 2 ** -20)) } }))).toContain(
      'add-numerics',
    );
    expect(await failedChecks(createMockBackend({ kernels: { MatMul: perturbed(matMul, (value) => value + 1e-4) } }))).toEqual([
      'matmul-numerics',
    ]);
    expect(await failedChecks(createMockBackend({ kernels: { Softmax: perturbed(softmax, (value) => value * 0.9999) } }))).toEqual([
      'softmax-numerics',
    ]);
  });

  it('fails an Identity that loses float16 or int64 bits', async () => {
    const identity = builtInKernels['Identity'] as Kernel;
    const lossy: Kernel = (inputs, node) =>
      identity(inputs, node).map((value) =>
        value.dataType === 'int64' ? { ...value, data: (value.data as BigInt64Array).map((element) => BigInt(Number(element))) } : value,
      );
    expect(await failedChecks(createMockBackend({ kernels: { Identity: lossy } }))).toEqual(['round-trip-data-types']);
  });

  it('fails a backend that returns copies instead of writing preallocated outputs', async () => {
    const backend = wrapSessions(createMockBackend(), (session) => ({
      get provider() { return session.provider; },
      get inputs() { return session.inputs; },
      get outputs() { return session.outputs; },
      get disposed() { return session.disposed; },
      dispose: () => session.dispose(),
      run: (feeds, options) => session.run(feeds, options?.fetches === undefined ? {} : { fetches: options.fetches }),
    }));
    expect(await failedChecks(backend)).toEqual(['preallocated-outputs']);
  });

  it('fails a backend that ignores fetches or throws untyped errors', async () => {
    const ignoresFetches = wrapSessions(createMockBackend(), (session) => ({
      get provider() { return session.provider; },
      get inputs() { return session.inputs; },
      get outputs() { return session.outputs; },
      get disposed() { return session.disposed; },
      dispose: () => session.dispose(),
      run: (feeds, options) => session.run(feeds, options?.outputs === undefined ? {} : { outputs: options.outputs }),
    }));
    expect(await failedChecks(ignoresFetches)).toEqual(['fetch-subset']);
    const untyped = wrapSessions(createMockBackend(), (session) => ({
      get provider() { return session.provider; },
      get inputs() { return session.inputs; },
      get outputs() { return session.outputs; },
      get disposed() { return session.disposed; },
      dispose: () => session.dispose(),
      run: async (feeds, options) => {
        try {
          return await session.run(feeds, options);
        } catch (error) {
          throw new Error(`plain: ${String(error)}`);
        }
      },
    }));
    expect(await failedChecks(untyped)).toEqual(['preallocated-outputs', 'fetch-subset', 'invalid-feeds', 'session-disposed']);
  });

  it('fails createTensor that copies the caller array', async () => {
    const base = createMockBackend();
    const copying: Backend = { ...base, probe: () => base.probe(), createSession: (model, options) => base.createSession(model, options), createTensor: (dataType, data, dimensions) => base.createTensor(dataType, data.slice() as typeof data, dimensions) };
    const failed = await failedChecks(copying);
    expect(failed).toContain('create-tensor');
    expect(failed).toContain('caller-buffer-views');
  });

  it('skips what the backend does not claim instead of failing it', async () => {
    const noSoftmax = createMockBackend();
    const limited: Backend = {
      ...noSoftmax,
      probe: () => noSoftmax.probe(),
      createSession: (model, options) => noSoftmax.createSession(model, options),
      createTensor: (dataType, data, dimensions) => noSoftmax.createTensor(dataType, data, dimensions),
      capabilities: { ...noSoftmax.capabilities, operators: ['Add', 'Identity'], supportsPreallocatedOutputs: false },
    };
    const results = await runConformanceChecks(() => limited);
    const skipped = results.filter((result) => result.status === 'skipped').map((result) => result.id);
    expect(skipped).toEqual(['matmul-numerics', 'softmax-numerics', 'preallocated-outputs', 'fetch-subset']);
    expect(results.filter((result) => result.status === 'failed')).toEqual([]);
  });
});
