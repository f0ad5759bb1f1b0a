import type {
  Backend,
  BackendCapabilities,
  CpuTensor,
  ExecutionProviderProbe,
  SessionOptions,
  TensorData,
  TensorDataType,
} from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { elementCount, isTensorDataType, matchesDataType, supportedDataTypes } from '@qaq/backend-common';
import { MockSession } from './mock-session.js';
import { MockTensor } from './mock-tensor.js';
import { decodeOnnxModel } from './onnx-model.js';
import { type Kernel, builtInKernels } from './operators.js';

export interface MockBackendOptions {
  /**
   * What `probe()` reports, and so which providers sessions may use (default: cpu available). Give e.g.
   * { name: 'cuda', available: false, reason: 'missing-library', ... } to test fallback code above the backend.
   */
  readonly probes?: readonly ExecutionProviderProbe[];
  /**
   * Extra or replacement kernels, by op_type ('domain:op_type' outside the default domain). They are claimed in
   * `capabilities.operators` like the built-in ones.
   */
  readonly kernels?: Readonly<Record<string, Kernel>>;
}

export interface MockBackend extends Backend {
  readonly name: 'mock';
  createSession(model: Uint8Array, options?: SessionOptions): Promise<MockSession>;
  /** Every session created so far, for assertions in tests. */
  readonly sessions: readonly MockSession[];
}

/**
 * An in-memory backend that really evaluates a few ONNX operators (Identity, Add, Sub, Mul, Div, Neg, MatMul,
 * Softmax) plus any kernels given, in float64 and rounded to the tensor type. For unit tests of code above the
 * backend; it passes the conformance suite for what its capabilities claim.
 */
export function createMockBackend(options: MockBackendOptions = {}): MockBackend {
  const probes = Object.freeze([...(options.probes ?? [{ name: 'cpu', available: true }])]);
  const kernels = Object.freeze({ ...builtInKernels, ...options.kernels });
  const sessions: MockSession[] = [];
  const capabilities: BackendCapabilities = Object.freeze({
    providers: probes.map((probe) => probe.name),
    supportsPreallocatedOutputs: true,
    supportsGpuBufferOutputs: false,
    dataTypes: supportedDataTypes,
    operators: Object.keys(kernels),
  });

  return {
    specificationVersion: 'v1',
    name: 'mock',
    capabilities,
    sessions,
    async probe() {
      return probes;
    },
    async createSession(model: Uint8Array, sessionOptions: SessionOptions = {}): Promise<MockSession> {
      const requested = sessionOptions.executionProviders ?? ['cpu'];
      const provider = requested.find((name) => probes.some((probe) => probe.name === name && probe.available));
      if (provider === undefined) {
        const unavailable = requested.map(
          (name): ExecutionProviderProbe =>
            probes.find((probe) => probe.name === name) ?? {
              name,
              available: false,
              reason: 'not-supported',
              missing: [],
              details: `The mock backend offers ${capabilities.providers.join(', ')}`,
            },
        );
        throw new QaqError('provider-unavailable', `No requested execution provider can run here: ${requested.join(', ')}`, {
          details: { requested: [...requested], probes: unavailable },
        });
      }
      const decoded = decodeOnnxModel(model);
      const session = new MockSession(decoded, provider, kernels);
      sessions.push(session);
      return session;
    },
    createTensor<T extends TensorDataType>(dataType: T, data: TensorData<T>, dimensions: readonly number[]): CpuTensor<T> {
      const count = isTensorDataType(dataType) && Array.isArray(dimensions) ? elementCount(dimensions) : undefined;
      if (!matchesDataType(dataType, data) || count === undefined || count !== data.length) {
        throw new QaqError('invalid-tensor', `The data does not hold ${String(dataType)}[${String(dimensions)}]`, {
          details: { dataType, dimensions, length: ArrayBuffer.isView(data) ? data.length : undefined, elementCount: count },
        });
      }
      return new MockTensor(dataType, data, dimensions);
    },
  };
}
