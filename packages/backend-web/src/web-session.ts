import type {
  BackendSession,
  BackendTensor,
  ExecutionProviderProbe,
  Feeds,
  RunOptions,
  TensorData,
  ValueMetadata,
} from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { isTensorDataType, prepareOrtRun, runFailedError, sessionDisposedError } from '@qaq/backend-common';
import { ort, type OrtSession, type OrtTensor } from './ort-web.js';
import { toValueMetadata } from './value-metadata.js';
import type { GpuDeviceLike } from './webgpu-types.js';
import type { WebProviderName } from './web-providers.js';
import { asSpecData, WebCpuTensor, WebGpuTensor } from './web-tensor.js';

/** The onnxruntime-web tensor for a spec tensor: ours as they are, other CPU tensors wrapped over their data (no copy). */
function toOrtTensor(tensor: BackendTensor, name: string, role: 'invalid-feed' | 'invalid-output'): OrtTensor {
  if (tensor instanceof WebCpuTensor || tensor instanceof WebGpuTensor) return tensor.ortTensor;
  if ((tensor.location === 'cpu' || tensor.location === 'cpu-pinned') && 'data' in tensor) {
    return new ort.Tensor(tensor.dataType, tensor.data as Float32Array, tensor.dimensions);
  }
  throw new QaqError(role, `'${name}' is a ${tensor.location} tensor from another backend`, {
    details: { name, reason: 'foreign-device-tensor', actual: tensor.location },
  });
}

function fromOrtTensor(name: string, value: ort.OnnxValue, device: GpuDeviceLike | undefined): BackendTensor {
  if (!(value instanceof ort.Tensor) || !isTensorDataType(value.type)) {
    throw new QaqError('run-failed', `Output '${name}' is not a tensor of a supported element type`, {
      details: { name, reason: 'unsupported-output' },
    });
  }
  if (value.location === 'gpu-buffer') return new WebGpuTensor(value.type, value, device);
  // onnxruntime-web already copied the output out of its WebAssembly heap into a fresh array: wrap that.
  return new WebCpuTensor(value.type, asSpecData(value.type, value.data), value.dims);
}

/** What the backend knows about a session beyond onnxruntime's own object. */
export interface WebSessionDetails {
  /** Free-dimension overrides, bound as symbols in every run's validation. */
  readonly fixedSymbols?: Readonly<Record<string, number>>;
  readonly skippedProviders?: readonly ExecutionProviderProbe[];
  /** The backend's WebGPU device (GPU tensors read back on it); undefined without WebGPU. */
  readonly device?: GpuDeviceLike | undefined;
  readonly placement?: Readonly<Record<string, number>> | undefined;
  /** Log severity of runs, when the session itself was created more verbose (placement). */
  readonly runLogSeverityLevel?: 0 | 1 | 2 | 3 | 4 | undefined;
}

/** One onnxruntime-web InferenceSession behind the spec's session interface. */
export class WebSession implements BackendSession {
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  readonly #session: OrtSession;
  readonly #fixedSymbols: Readonly<Record<string, number>>;
  readonly #device: GpuDeviceLike | undefined;
  readonly #runOptions: ort.InferenceSession.RunOptions;
  /** Requested providers skipped because they cannot run here, with why. */
  readonly skippedProviders: readonly ExecutionProviderProbe[];
  /** Nodes per provider from onnxruntime's log, for sessions created with `requirePlacement`; else undefined. */
  readonly placement: Readonly<Record<string, number>> | undefined;
  #disposed = false;

  constructor(
    session: OrtSession,
    /** The provider this session runs on: the first requested one that worked here. */
    readonly provider: WebProviderName,
    details: WebSessionDetails = {},
  ) {
    this.#session = session;
    this.#fixedSymbols = details.fixedSymbols ?? {};
    this.#device = details.device;
    this.#runOptions = details.runLogSeverityLevel === undefined ? {} : { logSeverityLevel: details.runLogSeverityLevel };
    this.skippedProviders = details.skippedProviders ?? [];
    this.placement = details.placement;
    this.inputs = Object.freeze(toValueMetadata(session.inputMetadata));
    this.outputs = Object.freeze(toValueMetadata(session.outputMetadata));
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Runs the model. Preallocated outputs come back as the very tensors given, written with the run's results:
   * a `WebGpuTensor` is bound as onnxruntime's output, so the run writes that GPU buffer in place; a CPU tensor is
   * filled with one copy out of onnxruntime-web's heap after the run (onnxruntime-web 1.30 leaves preallocated CPU
   * outputs unwritten: onnxruntime issue 25786).
   */
  async run(feeds: Feeds, options: RunOptions = {}): Promise<Readonly<Record<string, BackendTensor>>> {
    if (this.#disposed) throw sessionDisposedError();
    // CPU outputs are fetched into onnxruntime-web's heap and copied out after the run (see above).
    const bindsOutput = (tensor: BackendTensor): boolean => tensor.location !== 'cpu' && tensor.location !== 'cpu-pinned';
    const { fetchNames, feeds: ortFeeds, fetches, preallocated } = prepareOrtRun(this, feeds, options, this.#fixedSymbols, toOrtTensor, bindsOutput);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.#session.run(ortFeeds, fetches, this.#runOptions);
    } catch (error) {
      throw runFailedError('onnxruntime-web', error, this.provider);
    }
    const outputs: Record<string, BackendTensor> = {};
    for (const name of fetchNames) {
      const given = preallocated[name];
      const value = results[name];
      if (given === undefined) {
        if (value !== undefined) outputs[name] = fromOrtTensor(name, value, this.#device);
        continue;
      }
      if ((given.location === 'cpu' || given.location === 'cpu-pinned') && value instanceof ort.Tensor) {
        const written = asSpecData(given.dataType, value.location === 'cpu' ? value.data : await value.getData(true));
        (given.data as TensorData).set(written as never);
      }
      outputs[name] = given;
    }
    return outputs;
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#session.release();
  }
}
