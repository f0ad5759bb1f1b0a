import type { TensorData, TensorDataType } from './data-type.js';
import type { ExecutionProviderName, ExecutionProviderProbe } from './providers.js';
import type { BackendSession, SessionOptions } from './session.js';
import type { CpuTensor } from './tensor.js';

/** What a backend can do beyond the basics every backend must pass in the conformance suite. */
export interface BackendCapabilities {
  /** Providers this backend knows how to ask for (whether this machine has them is `probe()`'s business). */
  readonly providers: readonly ExecutionProviderName[];
  /** `run(feeds, { outputs })` writes into caller tensors. */
  readonly supportsPreallocatedOutputs: boolean;
  /** Outputs can stay in GPU memory (`preferredOutputLocation: 'gpu-buffer'`) on some provider. */
  readonly supportsGpuBufferOutputs: boolean;
  /** Element types `createTensor` and `run` accept. */
  readonly dataTypes: readonly TensorDataType[];
  /**
   * Operators (ONNX op_type, 'domain:op_type' outside the default domain) the backend evaluates; undefined when it
   * runs any standard model (a full runtime). Conformance checks are skipped for models needing others.
   */
  readonly operators?: readonly string[];
}

/**
 * An inference backend, version 'v1' of the QAQ backend specification. Implementations throw QaqError with a
 * `BackendErrorCode` code. Modelled on the provider specifications of vercel/ai: small, versioned, types only.
 */
export interface Backend {
  readonly specificationVersion: 'v1';
  /** Identifies the implementation, e.g. 'onnxruntime-node'. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** Checks, for real, which providers this machine can run and why the others cannot. */
  probe(): Promise<readonly ExecutionProviderProbe[]>;
  /** Loads a model (ONNX bytes). Throws 'invalid-model', 'provider-unavailable' or 'invalid-option'. */
  createSession(model: Uint8Array, options?: SessionOptions): Promise<BackendSession>;
  /**
   * Wraps `data` as a CPU tensor without copying: the tensor's `data` is `data` itself. Throws 'invalid-tensor'
   * when the element count does not match `dimensions` or the array type does not match `dataType`.
   */
  createTensor<T extends TensorDataType>(
    dataType: T,
    data: TensorData<T>,
    dimensions: readonly number[],
  ): CpuTensor<T>;
}
