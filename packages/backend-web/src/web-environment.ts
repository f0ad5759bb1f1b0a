import { QaqError } from '@qaq/errors';
import { ort } from './ort-web.js';

/** onnxruntime's log severities: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal. */
export type LogSeverityLevel = 0 | 1 | 2 | 3 | 4;

/** Settings of onnxruntime-web's WebAssembly module. They are global to the page (or process) and fixed once it starts. */
export interface WebEnvironmentOptions {
  /**
   * Where onnxruntime-web's `ort-wasm-simd-threaded.asyncify.{mjs,wasm}` are served, as a URL prefix ending in '/'
   * (e.g. '/ort/'). Leave it out when a bundler (Vite) resolves them from the package, and in Node.
   */
  readonly wasmPaths?: string;
  /** WebAssembly threads (default: onnxruntime-web's, which is 1 unless the page is cross-origin isolated). */
  readonly numThreads?: number;
  /** Default log severity of sessions (default 2, warning); 0 logs node placement. */
  readonly logSeverityLevel?: LogSeverityLevel;
}

const severityNames = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

/** The WebAssembly settings given so far, and whether onnxruntime-web's module has started (they are fixed from then). */
const applied: { wasmPaths?: string; numThreads?: number } = {};
let started = false;

function invalid(option: string, value: unknown, expectation: string): QaqError {
  return new QaqError('invalid-option', `Backend option ${option} ${expectation}`, { details: { option, value } });
}

/** Checks the options before anything is touched. */
export function validateEnvironmentOptions(options: WebEnvironmentOptions): void {
  const { wasmPaths, numThreads, logSeverityLevel } = options;
  if (wasmPaths !== undefined && (typeof wasmPaths !== 'string' || wasmPaths === '')) {
    throw invalid('wasmPaths', wasmPaths, 'must be a non-empty URL prefix');
  }
  if (numThreads !== undefined && (!Number.isSafeInteger(numThreads) || numThreads < 1)) {
    throw invalid('numThreads', numThreads, 'must be a positive integer');
  }
  if (logSeverityLevel !== undefined && !(Number.isInteger(logSeverityLevel) && logSeverityLevel >= 0 && logSeverityLevel <= 4)) {
    throw invalid('logSeverityLevel', logSeverityLevel, 'must be 0 (verbose) to 4 (fatal)');
  }
}

/**
 * Applies the WebAssembly settings to `ort.env`. onnxruntime-web reads them when its module starts (the first
 * session of the page), so asking for different ones afterwards gives QaqError('invalid-option') rather than
 * settings that silently do nothing.
 */
export function applyEnvironment(options: WebEnvironmentOptions): void {
  for (const key of ['wasmPaths', 'numThreads'] as const) {
    const value = options[key];
    if (value === undefined || value === applied[key]) continue;
    if (started || applied[key] !== undefined) {
      throw new QaqError('invalid-option', `onnxruntime-web's ${key} is fixed per page once set and started (it is ${String(applied[key] ?? 'the default')})`, {
        details: { option: key, value, active: applied[key] },
      });
    }
  }
  if (options.wasmPaths !== undefined) {
    applied.wasmPaths = options.wasmPaths;
    ort.env.wasm.wasmPaths = options.wasmPaths;
  }
  if (options.numThreads !== undefined) {
    applied.numThreads = options.numThreads;
    ort.env.wasm.numThreads = options.numThreads;
  }
  if (options.logSeverityLevel !== undefined) ort.env.logLevel = severityNames[options.logSeverityLevel];
}

/** Whether onnxruntime-web's module has started (a session was created on this page or in this process). */
export function environmentStarted(): boolean {
  return started;
}

/** Records that onnxruntime-web's module is starting (called before the first session is created). */
export function markEnvironmentStarted(): void {
  started = true;
}

/** The WebAssembly thread count onnxruntime-web runs with (undefined: its default). */
export function configuredThreadCount(): number | undefined {
  return ort.env.wasm.numThreads;
}
