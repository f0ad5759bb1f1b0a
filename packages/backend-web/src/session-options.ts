import type { SessionOptions } from '@qaq/backend-spec';
import { invalidOption, logSeverity, validateConfigEntries, validateSpecSessionOptions } from '@qaq/backend-common';
import type { InferenceSession } from 'onnxruntime-web/webgpu';
import type { GpuDeviceLike } from './webgpu-types.js';
import type { LogSeverityLevel } from './web-environment.js';
import type { WebProviderName } from './web-providers.js';

/** onnxruntime-web settings beyond the backend specification's. */
export interface WebSessionOptions extends SessionOptions {
  /** onnxruntime session config entries, verbatim (onnxruntime-web's `extra`). */
  readonly configEntries?: Readonly<Record<string, string>>;
  /**
   * WebGPU provider only: node names onnxruntime must put on its CPU provider instead (onnxruntime-web's
   * `forceCpuNodeNames`). For experiments, and to prove placement checks catch CPU nodes.
   */
  readonly forceCpuNodeNames?: readonly string[];
  /**
   * Browsers, backends made with `capturePlacementLog: true`: the session is created with verbose logging, its node
   * placement is read from onnxruntime's log, and creation fails with QaqError('node-off-gpu') (the session
   * released) unless every node runs on this provider — for graphs that must not fall back to the CPU node by node.
   * The counts are in `WebSession.placement`. Runs of the session log at the backend's severity again.
   */
  readonly requirePlacement?: 'webgpu' | 'wasm';
}

/** Checks the options a caller gave before anything is loaded. */
export function validateSessionOptions(options: WebSessionOptions): void {
  validateSpecSessionOptions(options);
  const required = options.requirePlacement;
  if (required !== undefined && required !== 'webgpu' && required !== 'wasm') throw invalidOption('requirePlacement', required, "must be 'webgpu' or 'wasm'");
  const forced = options.forceCpuNodeNames;
  if (forced !== undefined && (!Array.isArray(forced) || forced.some((name) => typeof name !== 'string' || name === ''))) {
    throw invalidOption('forceCpuNodeNames', forced, 'must be a list of node names');
  }
  validateConfigEntries(options.configEntries);
}

/** The log severity a session runs with: its own `logVerbosity`, else the backend's default. */
export function sessionLogSeverity(options: WebSessionOptions, backendDefault: LogSeverityLevel | undefined): LogSeverityLevel | undefined {
  return options.logVerbosity === undefined ? backendDefault : logSeverity[options.logVerbosity];
}

/** The onnxruntime-web provider entry: WebGPU on the backend's own device, or the provider's name. */
export function ortExecutionProvider(provider: WebProviderName, device: GpuDeviceLike | undefined, forceCpuNodeNames?: readonly string[]): InferenceSession.ExecutionProviderConfig {
  if (provider !== 'webgpu') return provider;
  return {
    name: 'webgpu',
    ...(device === undefined ? {} : { device: device as never }),
    ...(forceCpuNodeNames === undefined || forceCpuNodeNames.length === 0 ? {} : { forceCpuNodeNames: [...forceCpuNodeNames] }),
  };
}

/**
 * The onnxruntime-web options for `options` on one provider. Only that provider is listed, so the session runs on
 * exactly the provider the backend reports (onnxruntime-web still keeps its CPU provider for nodes WebGPU lacks;
 * `webPlacement` shows those). 'gpu-buffer' locations are dropped on 'wasm', where onnxruntime-web has no GPU
 * memory: outputs come back as CPU tensors, as the specification allows.
 */
export function toOrtSessionOptions(
  options: WebSessionOptions,
  provider: WebProviderName,
  logSeverityLevel: LogSeverityLevel | undefined,
  device?: GpuDeviceLike,
): InferenceSession.SessionOptions {
  const ortOptions: InferenceSession.SessionOptions = { executionProviders: [ortExecutionProvider(provider, device, options.forceCpuNodeNames)] };
  if (options.intraOpThreads !== undefined) ortOptions.intraOpNumThreads = options.intraOpThreads;
  if (options.cpuMemoryArena !== undefined) ortOptions.enableCpuMemArena = options.cpuMemoryArena;
  if (options.graphOptimizationLevel !== undefined) ortOptions.graphOptimizationLevel = options.graphOptimizationLevel;
  if (logSeverityLevel !== undefined) {
    ortOptions.logSeverityLevel = logSeverityLevel;
    if (logSeverityLevel === 0) ortOptions.logVerbosityLevel = 0;
  }
  if (options.freeDimensionOverrides !== undefined) ortOptions.freeDimensionOverrides = options.freeDimensionOverrides;
  if (provider === 'webgpu' && options.preferredOutputLocation !== undefined) ortOptions.preferredOutputLocation = options.preferredOutputLocation;
  if (options.configEntries !== undefined) ortOptions.extra = { ...options.configEntries };
  return ortOptions;
}
