import type {
  Backend,
  BackendCapabilities,
  ExecutionProviderProbe,
  TensorData,
  TensorDataType,
} from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { supportedDataTypes, validateTensorData } from '@qaq/backend-common';
import { allocateGpuTensor, type GpuBufferDataType } from './gpu-tensor-allocation.js';
import { isModelProblem, messageOf } from './ort-errors.js';
import { ort } from './ort-web.js';
import { probeWasm, probeWebGpu, type WasmSummary, type WebGpuAdapterSummary } from './probe.js';
import { providerUnavailableError, selectProviders } from './provider-selection.js';
import { sessionLogSeverity, toOrtSessionOptions, validateSessionOptions, type WebSessionOptions } from './session-options.js';
import {
  applyEnvironment,
  environmentStarted,
  markEnvironmentStarted,
  validateEnvironmentOptions,
  type LogSeverityLevel,
} from './web-environment.js';
import { webProviders, type WebProviderName } from './web-providers.js';
import { WebSession } from './web-session.js';
import { assertPlacedOn } from './gpu-placement.js';
import { captureLog, installLogCapture, logCaptureInstalled } from './log-capture.js';
import { parsePlacementLog } from './placement-log.js';
import { createSessionsInTurn } from './session-creation-queue.js';
import type { GpuDeviceLike } from './webgpu-types.js';
import { WebCpuTensor, WebGpuTensor } from './web-tensor.js';

export interface WebBackendOptions {
  /**
   * The providers to use, in preference order (default ['webgpu', 'wasm']). They are probed when the backend is
   * created; `provider` is the first that works, and sessions default to this list.
   */
  readonly providers?: readonly WebProviderName[];
  /** URL prefix where onnxruntime-web's `dist/` files are served (ending in '/'); omit under a bundler or in Node. */
  readonly wasmPaths?: string;
  /** WebAssembly threads (default onnxruntime-web's; more than 1 needs a cross-origin isolated page). Fixed per page. */
  readonly numThreads?: number;
  /** Default log severity of sessions, 0 (verbose: node placement) to 4 (default 2). */
  readonly logSeverityLevel?: LogSeverityLevel;
  /**
   * Browsers: wrap `console.error` (forwarding everything) before onnxruntime-web's module loads, so sessions can be
   * created with `requirePlacement` and checked in the page. Must be set on the page's first backend, before any
   * onnxruntime-web session (else 'invalid-option'). Default false.
   */
  readonly capturePlacementLog?: boolean;
}

export interface WebBackend extends Backend {
  readonly name: 'onnxruntime-web';
  /** The provider sessions run on by default: the first of `options.providers` whose probe passed. */
  readonly provider: WebProviderName;
  /** The probe of every provider in `options.providers`, made at creation. */
  readonly probes: readonly ExecutionProviderProbe[];
  /** The WebGPU adapter, when WebGPU was probed and an adapter was granted. */
  readonly adapter: WebGpuAdapterSummary | undefined;
  /**
   * The WebGPU device every WebGPU session of this backend runs on and GPU tensors live on (a `GPUDevice`; typed
   * structurally here). Undefined without WebGPU. Share it for buffers of your own; do not destroy it.
   */
  readonly gpuDevice: GpuDeviceLike | undefined;
  /** WebAssembly features (SIMD, threads), when wasm was probed. */
  readonly wasm: WasmSummary | undefined;
  createSession(model: Uint8Array, options?: WebSessionOptions): Promise<WebSession>;
  createTensor<T extends TensorDataType>(dataType: T, data: TensorData<T>, dimensions: readonly number[]): WebCpuTensor<T>;
  /**
   * A tensor in a GPU buffer on onnxruntime-web's device, allocated once (see `allocateGpuTensor`): feed it, or
   * preallocate an output with it so runs write into it in place. Throws 'provider-unavailable' off WebGPU.
   */
  createGpuTensor<T extends GpuBufferDataType>(dataType: T, dimensions: readonly number[], initialData?: TensorData<T>): Promise<WebGpuTensor<T>>;
}

function validateProviders(providers: unknown): asserts providers is readonly WebProviderName[] {
  if (!Array.isArray(providers) || providers.length === 0 || providers.some((name) => !(webProviders as readonly unknown[]).includes(name))) {
    throw new QaqError('invalid-option', `Backend option providers must be a non-empty list of ${webProviders.join(', ')}`, {
      details: { option: 'providers', value: providers },
    });
  }
}

/**
 * The onnxruntime-web backend (the `/webgpu` entry: native WebGPU execution provider, WebAssembly as fallback).
 * Probes are real — an adapter asked of `navigator.gpu`, WebAssembly features checked, and a one-node model run on
 * each provider — and made once, here. Throws 'provider-unavailable' when none of `providers` works.
 */
export async function createWebBackend(options: WebBackendOptions = {}): Promise<WebBackend> {
  const providers = options.providers ?? webProviders;
  validateProviders(providers);
  validateEnvironmentOptions(options);
  if (options.capturePlacementLog !== undefined && typeof options.capturePlacementLog !== 'boolean') {
    throw new QaqError('invalid-option', 'Backend option capturePlacementLog must be a boolean', { details: { option: 'capturePlacementLog', value: options.capturePlacementLog } });
  }
  if (options.capturePlacementLog === true && !logCaptureInstalled()) {
    if (environmentStarted()) {
      throw new QaqError('invalid-option', "capturePlacementLog must be set before the page's first onnxruntime-web session (its module binds console.error when it loads)", {
        details: { option: 'capturePlacementLog', value: true },
      });
    }
    installLogCapture();
  }
  applyEnvironment(options);

  let adapter: WebGpuAdapterSummary | undefined;
  let device: GpuDeviceLike | undefined;
  let wasm: WasmSummary | undefined;
  const probeByName = new Map<WebProviderName, ExecutionProviderProbe>();
  for (const name of new Set(providers)) {
    if (name === 'webgpu') {
      const result = await probeWebGpu();
      adapter = result.adapter;
      device = result.device;
      probeByName.set(name, result.probe);
    } else {
      const result = await probeWasm();
      wasm = result.wasm;
      probeByName.set(name, result.probe);
    }
  }
  const probes = Object.freeze([...probeByName.values()]);
  const provider = providers.find((name) => probeByName.get(name)?.available === true);
  if (provider === undefined) throw providerUnavailableError(providers, probes);

  const capabilities: BackendCapabilities = Object.freeze({
    providers: webProviders,
    supportsPreallocatedOutputs: true,
    supportsGpuBufferOutputs: probeByName.get('webgpu')?.available === true,
    dataTypes: supportedDataTypes,
  });

  const notProbed = (name: WebProviderName): ExecutionProviderProbe => ({
    name,
    available: false,
    reason: 'not-supported',
    missing: [],
    details: `'${name}' was left out of this backend's providers (${providers.join(', ')}); create a backend with it to use it`,
  });

  async function createSession(model: Uint8Array, sessionOptions: WebSessionOptions = {}): Promise<WebSession> {
    validateSessionOptions(sessionOptions);
    if (!(model instanceof Uint8Array) || model.byteLength === 0) {
      throw new QaqError('invalid-model', 'The model must be non-empty ONNX bytes in a Uint8Array', {
        details: { reason: 'not-bytes', byteLength: model instanceof Uint8Array ? 0 : undefined },
      });
    }
    const requested = sessionOptions.executionProviders ?? providers;
    const { usable, unavailable } = await selectProviders(requested, async (name) => probeByName.get(name) ?? notProbed(name));
    const skipped = [...unavailable];
    const required = sessionOptions.requirePlacement;
    if (required !== undefined && !logCaptureInstalled()) {
      throw new QaqError('invalid-option', 'requirePlacement needs a backend created with capturePlacementLog: true (in a browser)', {
        details: { option: 'requirePlacement', value: required },
      });
    }
    const logSeverityLevel = required === undefined ? sessionLogSeverity(sessionOptions, options.logSeverityLevel) : 0;
    for (const candidate of usable) {
      let session: ort.InferenceSession;
      let logLines: string[] = [];
      try {
        markEnvironmentStarted();
        const ortOptions = toOrtSessionOptions(sessionOptions, candidate, logSeverityLevel, candidate === 'webgpu' ? device : undefined);
        const create = () => ort.InferenceSession.create(model, ortOptions);
        if (required === undefined) {
          session = await createSessionsInTurn(create);
        } else {
          const captured = await createSessionsInTurn(() => captureLog(create));
          session = captured.result;
          logLines = captured.lines;
        }
      } catch (error) {
        const message = messageOf(error);
        if (candidate === 'wasm' || isModelProblem(message)) {
          throw new QaqError('invalid-model', `onnxruntime-web cannot load the model: ${message}`, {
            details: { reason: message, provider: candidate },
            cause: error,
          });
        }
        // The probe passed but this model failed on WebGPU: go on to the next provider, and say why.
        skipped.push({ name: candidate, available: false, reason: 'probe-failed', missing: [], details: message });
        continue;
      }
      let placement: Readonly<Record<string, number>> | undefined;
      if (required !== undefined) {
        try {
          placement = assertPlacedOn(parsePlacementLog(logLines), required);
        } catch (error) {
          await session.release();
          throw error;
        }
      }
      return new WebSession(session, candidate, {
        fixedSymbols: sessionOptions.freeDimensionOverrides ?? {},
        skippedProviders: Object.freeze(skipped),
        device,
        placement,
        runLogSeverityLevel: required === undefined ? undefined : (sessionLogSeverity(sessionOptions, options.logSeverityLevel) ?? 2),
      });
    }
    throw providerUnavailableError(requested, skipped);
  }

  function createTensor<T extends TensorDataType>(dataType: T, data: TensorData<T>, dimensions: readonly number[]): WebCpuTensor<T> {
    validateTensorData(dataType, data, dimensions);
    return new WebCpuTensor(dataType, data, dimensions);
  }

  async function createGpuTensor<T extends GpuBufferDataType>(dataType: T, dimensions: readonly number[], initialData?: TensorData<T>): Promise<WebGpuTensor<T>> {
    if (device === undefined) {
      throw providerUnavailableError(['webgpu'], [probeByName.get('webgpu') ?? notProbed('webgpu')]);
    }
    return allocateGpuTensor(device, dataType, dimensions, initialData);
  }

  return {
    specificationVersion: 'v1',
    name: 'onnxruntime-web',
    capabilities,
    provider,
    probes,
    adapter,
    gpuDevice: device,
    wasm,
    async probe(): Promise<readonly ExecutionProviderProbe[]> {
      return probes;
    },
    createSession,
    createTensor,
    createGpuTensor,
  };
}
