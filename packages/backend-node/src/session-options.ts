import type { SessionOptions } from '@qaq/backend-spec';
import { invalidOption, logSeverity, validateConfigEntries, validateSpecSessionOptions } from '@qaq/backend-common';
import type { InferenceSession } from 'onnxruntime-node';

/**
 * onnxruntime-node settings beyond the backend specification's. Defaults are onnxruntime's own except
 * `allowSpinning`. What they did to decode speed on a 2-core machine is in docs/benchmarks/decode-profile.md.
 */
export interface NodeSessionOptions extends SessionOptions {
  /**
   * onnxruntime's CPU memory arena (default true): off returns freed buffers to the system, costing re-allocation.
   * Overrides the specification's `cpuMemoryArena` hint when both are given.
   */
  readonly enableCpuMemArena?: boolean;
  /** Plans buffers from the shapes of earlier runs (default true). */
  readonly enableMemoryPattern?: boolean;
  /**
   * Intra-op worker threads spin while waiting for work. Default **false** here (onnxruntime's own default is
   * true): spinning threads of several sessions (a segmented decoder has one per layer) or of other processes fight
   * for the cores. Measured on 2 cores: the segmented path decoded 1.3 tok/s spinning, 22–28 tok/s not; one
   * monolithic session was 2× faster without under load and within noise of spinning at low load. Pass true to try
   * spinning for a single session on a dedicated machine.
   */
  readonly allowSpinning?: boolean;
  /**
   * With `allowSpinning`, stop the intra-op threads spinning as soon as a run returns (onnxruntime's
   * `session.force_spinning_stop`); they spin again on the next run. Spinning then only bridges the gaps between
   * the operators of one run, and many sessions (one per layer in a segmented decoder) or the attention kernel's
   * own threads between runs lose no core to it. Default false (onnxruntime's).
   */
  readonly stopSpinningAfterRun?: boolean;
  /**
   * Turns onnxruntime's profiler on: a Chrome-trace JSON is written under this path prefix; `NodeSession.endProfiling()`
   * returns its path and `readOrtProfile` sums it per operator.
   */
  readonly profileFilePrefix?: string;
  /** onnxruntime session config entries, verbatim (e.g. `session.dynamic_block_base`); override the fields above. */
  readonly configEntries?: Readonly<Record<string, string>>;
}
/** Checks the options a caller gave before anything is loaded. */
export function validateSessionOptions(options: NodeSessionOptions): void {
  for (const name of ['enableCpuMemArena', 'cpuMemoryArena', 'enableMemoryPattern', 'allowSpinning', 'stopSpinningAfterRun'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'boolean') throw invalidOption(name, value, 'must be a boolean');
  }
  const prefix = options.profileFilePrefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix === '')) {
    throw invalidOption('profileFilePrefix', prefix, 'must be a non-empty path prefix');
  }
  validateConfigEntries(options.configEntries);
  validateSpecSessionOptions(options);
}

/** The onnxruntime-node options for `options`, running on `providers` (already chosen and in order). */
export function toOrtSessionOptions(options: NodeSessionOptions, providers: readonly string[]): InferenceSession.SessionOptions {
  const ortOptions: InferenceSession.SessionOptions = { executionProviders: providers };
  const cpuMemoryArena = options.enableCpuMemArena ?? options.cpuMemoryArena;
  if (cpuMemoryArena !== undefined) ortOptions.enableCpuMemArena = cpuMemoryArena;
  if (options.enableMemoryPattern !== undefined) ortOptions.enableMemPattern = options.enableMemoryPattern;
  if (options.profileFilePrefix !== undefined) {
    ortOptions.enableProfiling = true;
    ortOptions.profileFilePrefix = options.profileFilePrefix;
  }
  const entries: Record<string, string> = {};
  entries['session.intra_op.allow_spinning'] = options.allowSpinning === true ? '1' : '0';
  if (options.stopSpinningAfterRun !== undefined) entries['session.force_spinning_stop'] = options.stopSpinningAfterRun ? '1' : '0';
  Object.assign(entries, options.configEntries);
  // onnxruntime-node joins nested keys with '.', so full keys at the top level reach AddConfigEntry as they are.
  ortOptions.extra = entries;
  if (options.intraOpThreads !== undefined) ortOptions.intraOpNumThreads = options.intraOpThreads;
  if (options.graphOptimizationLevel !== undefined) ortOptions.graphOptimizationLevel = options.graphOptimizationLevel;
  if (options.logVerbosity !== undefined) ortOptions.logSeverityLevel = logSeverity[options.logVerbosity];
  if (options.freeDimensionOverrides !== undefined) ortOptions.freeDimensionOverrides = options.freeDimensionOverrides;
  if (options.preferredOutputLocation !== undefined) ortOptions.preferredOutputLocation = options.preferredOutputLocation;
  return ortOptions;
}
