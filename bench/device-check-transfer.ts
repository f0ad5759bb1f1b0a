import type { Backend, BackendSession, BackendTensor, Feeds, RunOptions, SessionOptions } from '@qaq/backend-spec';

/** Bytes that crossed between JavaScript memory and the runtime, summed over every run of every session. */
export interface TransferCounters {
  runs: number;
  /** CPU feeds: on a GPU provider onnxruntime-node copies each to the device every run (no CUDA IO binding from JS). */
  bytesFed: number;
  /** CPU outputs: copied back from the device every run. */
  bytesFetched: number;
  /** Feeds and outputs that stayed on the device (WebGPU gpu-buffer): no copy. */
  deviceTensors: number;
}

function cpuBytes(tensor: BackendTensor): number {
  return tensor.location === 'cpu' || tensor.location === 'cpu-pinned' ? (tensor.data as ArrayBufferView).byteLength : 0;
}

/**
 * Wraps a backend so that every session counts the bytes it is fed and returns (the host↔device copies of a GPU
 * provider) and every model it is given is kept, for the placement check. Counting costs a loop over the feeds.
 */
export function countingBackend(backend: Backend): { backend: Backend; counters: TransferCounters; models: Uint8Array[] } {
  const counters: TransferCounters = { runs: 0, bytesFed: 0, bytesFetched: 0, deviceTensors: 0 };
  const models: Uint8Array[] = [];
  const count = (tensor: BackendTensor, into: 'bytesFed' | 'bytesFetched'): void => {
    const bytes = cpuBytes(tensor);
    if (bytes === 0 && tensor.location !== 'cpu' && tensor.location !== 'cpu-pinned') counters.deviceTensors++;
    counters[into] += bytes;
  };
  const wrapSession = (session: BackendSession): BackendSession => ({
    get provider() {
      return session.provider;
    },
    get inputs() {
      return session.inputs;
    },
    get outputs() {
      return session.outputs;
    },
    get disposed() {
      return session.disposed;
    },
    async run(feeds: Feeds, options?: RunOptions) {
      counters.runs++;
      for (const tensor of Object.values(feeds)) count(tensor, 'bytesFed');
      const outputs = await session.run(feeds, options);
      for (const tensor of Object.values(outputs)) count(tensor, 'bytesFetched');
      return outputs;
    },
    dispose: () => session.dispose(),
  });
  const wrapped: Backend = {
    specificationVersion: backend.specificationVersion,
    name: backend.name,
    capabilities: backend.capabilities,
    probe: () => backend.probe(),
    async createSession(model: Uint8Array, options?: SessionOptions) {
      models.push(model);
      return wrapSession(await backend.createSession(model, options));
    },
    createTensor: (dataType, data, dimensions) => backend.createTensor(dataType, data, dimensions),
  };
  return { backend: wrapped, counters, models };
}
