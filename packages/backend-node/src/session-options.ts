import type { SessionOptions } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import type { InferenceSession } from 'onnxruntime-node';

const logSeverity = { verbose: 0, info: 1, warning: 2, error: 3, fatal: 4 } as const;
const optimizationLevels = ['disabled', 'basic', 'extended', 'all'] as const;

function invalid(option: string, value: unknown, expectation: string): QaqError {
  return new QaqError('invalid-option', `Session option ${option} ${expectation}`, { details: { option, value } });
}

/** Checks the options a caller gave before anything is loaded. */
export function validateSessionOptions(options: SessionOptions): void {
  const providers = options.executionProviders;
  if (providers !== undefined && (!Array.isArray(providers) || providers.length === 0 || providers.some((name) => typeof name !== 'string'))) {
    throw invalid('executionProviders', providers, 'must be a non-empty list of provider names');
  }
  const threads = options.intraOpThreads;
  if (threads !== undefined && (!Number.isSafeInteger(threads) || threads < 0)) {
    throw invalid('intraOpThreads', threads, 'must be a non-negative integer (0: the runtime chooses)');
  }
  const level = options.graphOptimizationLevel;
  if (level !== undefined && !optimizationLevels.includes(level)) {
    throw invalid('graphOptimizationLevel', level, `must be one of ${optimizationLevels.join(', ')}`);
  }
  const verbosity = options.logVerbosity;
  if (verbosity !== undefined && !Object.hasOwn(logSeverity, verbosity)) {
    throw invalid('logVerbosity', verbosity, `must be one of ${Object.keys(logSeverity).join(', ')}`);
  }
  for (const [name, size] of Object.entries(options.freeDimensionOverrides ?? {})) {
    if (!Number.isSafeInteger(size) || size < 0) throw invalid(`freeDimensionOverrides.${name}`, size, 'must be a non-negative integer');
  }
  const location = options.preferredOutputLocation;
  const locations = typeof location === 'string' ? [location] : Object.values(location ?? {});
  for (const value of locations) {
    if (value !== 'cpu' && value !== 'gpu-buffer') throw invalid('preferredOutputLocation', value, "must be 'cpu' or 'gpu-buffer'");
  }
}

/** The onnxruntime-node options for `options`, running on `providers` (already chosen and in order). */
export function toOrtSessionOptions(options: SessionOptions, providers: readonly string[]): InferenceSession.SessionOptions {
  const ortOptions: InferenceSession.SessionOptions = { executionProviders: providers };
  if (options.intraOpThreads !== undefined) ortOptions.intraOpNumThreads = options.intraOpThreads;
  if (options.graphOptimizationLevel !== undefined) ortOptions.graphOptimizationLevel = options.graphOptimizationLevel;
  if (options.logVerbosity !== undefined) ortOptions.logSeverityLevel = logSeverity[options.logVerbosity];
  if (options.freeDimensionOverrides !== undefined) ortOptions.freeDimensionOverrides = options.freeDimensionOverrides;
  if (options.preferredOutputLocation !== undefined) ortOptions.preferredOutputLocation = options.preferredOutputLocation;
  return ortOptions;
}
