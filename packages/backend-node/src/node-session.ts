import type {
  BackendSession,
  BackendTensor,
  ExecutionProviderName,
  ExecutionProviderProbe,
  Feeds,
  RunOptions,
  TensorData,
  ValueMetadata,
} from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import ort from 'onnxruntime-node';
import { isTensorDataType, prepareOrtRun, runFailedError, sessionDisposedError } from '@qaq/backend-common';
import { NodeCpuTensor, NodeGpuTensor } from './node-tensor.js';
import { findOrtProfile } from './ort-profile.js';
import { toValueMetadata } from './value-metadata.js';

/** The onnxruntime tensor for a spec tensor: ours as they are, other CPU tensors wrapped over their data (no copy). */
function toOrtTensor(tensor: BackendTensor, name: string, role: 'invalid-feed' | 'invalid-output'): ort.Tensor {
  if (tensor instanceof NodeCpuTensor || tensor instanceof NodeGpuTensor) return tensor.ortTensor;
  if (tensor.location === 'cpu' || tensor.location === 'cpu-pinned') {
    if ('data' in tensor) return new ort.Tensor(tensor.dataType, tensor.data as Float32Array, tensor.dimensions);
  }
  throw new QaqError(role, `'${name}' is a ${tensor.location} tensor from another backend`, {
    details: { name, reason: 'foreign-device-tensor', actual: tensor.location },
  });
}

function fromOrtTensor(name: string, value: ort.OnnxValue): BackendTensor {
  if (!(value instanceof ort.Tensor) || !isTensorDataType(value.type)) {
    throw new QaqError('run-failed', `Output '${name}' is not a tensor of a supported element type`, {
      details: { name, reason: 'unsupported-output' },
    });
  }
  if (value.location === 'gpu-buffer') return new NodeGpuTensor(value.type, value);
  // onnxruntime-node already copied the output into a fresh ArrayBuffer: wrap that, no second copy.
  return new NodeCpuTensor(value.type, value.data as TensorData, value.dims);
}

/** One onnxruntime-node InferenceSession behind the spec's session interface. */
export class NodeSession implements BackendSession {
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  readonly #session: ort.InferenceSession;
  readonly #fixedSymbols: Readonly<Record<string, number>>;
  readonly #profileFilePrefix: string | undefined;
  #disposed = false;

  constructor(
    session: ort.InferenceSession,
    readonly provider: ExecutionProviderName,
    fixedSymbols: Readonly<Record<string, number>>,
    /** Requested providers skipped because they cannot run here, with why (ORT itself would fail or fall back). */
    readonly skippedProviders: readonly ExecutionProviderProbe[] = [],
    profileFilePrefix?: string,
  ) {
    this.#profileFilePrefix = profileFilePrefix;
    this.#session = session;
    this.#fixedSymbols = fixedSymbols;
    this.inputs = Object.freeze(toValueMetadata(session.inputMetadata));
    this.outputs = Object.freeze(toValueMetadata(session.outputMetadata));
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  async run(feeds: Feeds, options: RunOptions = {}): Promise<Readonly<Record<string, BackendTensor>>> {
    if (this.#disposed) throw sessionDisposedError();
    const { fetchNames, feeds: ortFeeds, fetches, preallocated } = prepareOrtRun(this, feeds, options, this.#fixedSymbols, toOrtTensor);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.#session.run(ortFeeds, fetches);
    } catch (error) {
      throw runFailedError('onnxruntime', error, this.provider);
    }
    const outputs: Record<string, BackendTensor> = {};
    for (const name of fetchNames) {
      const given = preallocated[name];
      const value = results[name];
      // onnxruntime-node wrote into the caller's buffer and also returned a copy of it; the caller's tensor wins.
      if (given !== undefined) outputs[name] = given;
      else if (value !== undefined) outputs[name] = fromOrtTensor(name, value);
    }
    return outputs;
  }

  /**
   * Stops the profiler of a session created with `profileFilePrefix` and returns the trace's path (onnxruntime-node
   * itself does not say where it wrote it). Sum it with `readOrtProfile`.
   */
  async endProfiling(): Promise<string> {
    const prefix = this.#profileFilePrefix;
    if (prefix === undefined) {
      throw new QaqError('profiling-off', 'the session was created without profileFilePrefix', { details: {} });
    }
    if (this.#disposed) throw sessionDisposedError();
    this.#session.endProfiling();
    return findOrtProfile(prefix);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#session.release();
  }
}
