import type {
  Backend,
  BackendCapabilities,
  CpuTensor,
  ExecutionProviderProbe,
  TensorData,
  TensorDataType,
} from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import ort from 'onnxruntime-node';
import { supportedDataTypes, validateTensorData } from '@qaq/backend-common';
import { NodeSession } from './node-session.js';
import { NodeCpuTensor } from './node-tensor.js';
import { isModelProblem, messageOf } from './ort-errors.js';
import { probeCpu, probeCuda, probeWebGpu } from './probe.js';
import { nodeProviders, providerUnavailableError, selectProviders } from './provider-selection.js';
import { toOrtSessionOptions, validateSessionOptions, type NodeSessionOptions } from './session-options.js';

export interface NodeBackend extends Backend {
  readonly name: 'onnxruntime-node';
  createSession(model: Uint8Array, options?: NodeSessionOptions): Promise<NodeSession>;
}

const probers = { cpu: probeCpu, cuda: probeCuda, webgpu: probeWebGpu } as const;

/**
 * The onnxruntime-node backend. Probes are real (library loads and a one-node session per provider) and cached per
 * backend, so create one backend per process and share it.
 */
export function createNodeBackend(): NodeBackend {
  const probeCache = new Map<keyof typeof probers, Promise<ExecutionProviderProbe>>();
  const probeOne = (name: keyof typeof probers): Promise<ExecutionProviderProbe> => {
    let cached = probeCache.get(name);
    if (cached === undefined) {
      cached = probers[name]();
      probeCache.set(name, cached);
    }
    return cached;
  };

  const capabilities: BackendCapabilities = Object.freeze({
    providers: nodeProviders,
    supportsPreallocatedOutputs: true,
    supportsGpuBufferOutputs: true,
    dataTypes: supportedDataTypes,
  });

  async function createSession(model: Uint8Array, options: NodeSessionOptions = {}): Promise<NodeSession> {
    validateSessionOptions(options);
    if (!(model instanceof Uint8Array) || model.byteLength === 0) {
      throw new QaqError('invalid-model', 'The model must be non-empty ONNX bytes in a Uint8Array', {
        details: { reason: 'not-bytes', byteLength: model instanceof Uint8Array ? 0 : undefined },
      });
    }
    const requested = options.executionProviders ?? ['cpu'];
    const { usable, unavailable } = await selectProviders(requested, probeOne);
    const skipped = [...unavailable];
    for (const [index, provider] of usable.entries()) {
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(model, toOrtSessionOptions(options, usable.slice(index)));
      } catch (error) {
        const message = messageOf(error);
        if (provider === 'cpu' || isModelProblem(message)) {
          throw new QaqError('invalid-model', `onnxruntime cannot load the model: ${message}`, {
            details: { reason: message, provider },
            cause: error,
          });
        }
        // The probe passed but this model's session failed on the provider: go on to the next one, and say why.
        skipped.push({ name: provider, available: false, reason: 'probe-failed', missing: [], details: message });
        continue;
      }
      return new NodeSession(session, provider, options.freeDimensionOverrides ?? {}, Object.freeze(skipped), options.profileFilePrefix);
    }
    throw providerUnavailableError(requested, skipped);
  }

  function createTensor<T extends TensorDataType>(dataType: T, data: TensorData<T>, dimensions: readonly number[]): CpuTensor<T> {
    validateTensorData(dataType, data, dimensions);
    return new NodeCpuTensor(dataType, data, dimensions);
  }

  return {
    specificationVersion: 'v1',
    name: 'onnxruntime-node',
    capabilities,
    async probe(): Promise<readonly ExecutionProviderProbe[]> {
      return Promise.all(nodeProviders.map((name) => probeOne(name)));
    },
    createSession,
    createTensor,
  };
}
