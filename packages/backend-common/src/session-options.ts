import type { SessionOptions } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';

/** onnxruntime's log severity levels, by the specification's `logVerbosity` names. */
export const logSeverity = { verbose: 0, info: 1, warning: 2, error: 3, fatal: 4 } as const;

const optimizationLevels = ['disabled', 'basic', 'extended', 'all'] as const;

/** The error for a session option a caller got wrong. */
export function invalidOption(option: string, value: unknown, expectation: string): QaqError {
  return new QaqError('invalid-option', `Session option ${option} ${expectation}`, { details: { option, value } });
}

/** Checks the specification's session options (each backend checks its own extras) before anything is loaded. */
export function validateSpecSessionOptions(options: SessionOptions): void {
  const providers = options.executionProviders;
  if (providers !== undefined && (!Array.isArray(providers) || providers.length === 0 || providers.some((name) => typeof name !== 'string'))) {
    throw invalidOption('executionProviders', providers, 'must be a non-empty list of provider names');
  }
  const threads = options.intraOpThreads;
  if (threads !== undefined && (!Number.isSafeInteger(threads) || threads < 0)) {
    throw invalidOption('intraOpThreads', threads, 'must be a non-negative integer (0: the runtime chooses)');
  }
  const level = options.graphOptimizationLevel;
  if (level !== undefined && !optimizationLevels.includes(level)) {
    throw invalidOption('graphOptimizationLevel', level, `must be one of ${optimizationLevels.join(', ')}`);
  }
  const verbosity = options.logVerbosity;
  if (verbosity !== undefined && !Object.hasOwn(logSeverity, verbosity)) {
    throw invalidOption('logVerbosity', verbosity, `must be one of ${Object.keys(logSeverity).join(', ')}`);
  }
  for (const [name, size] of Object.entries(options.freeDimensionOverrides ?? {})) {
    if (!Number.isSafeInteger(size) || size < 0) throw invalidOption(`freeDimensionOverrides.${name}`, size, 'must be a non-negative integer');
  }
  const location = options.preferredOutputLocation;
  const locations = typeof location === 'string' ? [location] : Object.values(location ?? {});
  for (const value of locations) {
    if (value !== 'cpu' && value !== 'gpu-buffer') throw invalidOption('preferredOutputLocation', value, "must be 'cpu' or 'gpu-buffer'");
  }
  if (options.cpuMemoryArena !== undefined && typeof options.cpuMemoryArena !== 'boolean') {
    throw invalidOption('cpuMemoryArena', options.cpuMemoryArena, 'must be a boolean');
  }
}

/** Checks onnxruntime config entries given verbatim. */
export function validateConfigEntries(entries: Readonly<Record<string, string>> | undefined): void {
  for (const [key, value] of Object.entries(entries ?? {})) {
    if (key === '' || typeof value !== 'string') throw invalidOption(`configEntries.${key}`, value, 'must map a non-empty key to a string');
  }
}
