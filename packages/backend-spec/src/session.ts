import type { ValueMetadata } from './metadata.js';
import type { ExecutionProviderName } from './providers.js';
import type { BackendTensor } from './tensor.js';

/** Where a run should leave an output: on the CPU, or in GPU memory for the next run to consume. */
export type OutputLocation = 'cpu' | 'gpu-buffer';

/** Options for `Backend.createSession`. Every field is optional; the defaults are in the comments. */
export interface SessionOptions {
  /**
   * Providers in preference order (default ['cpu']). The session uses the first one that works here and says
   * which in `BackendSession.provider`; when none works the backend throws QaqError('provider-unavailable')
   * naming what is missing. Nodes a provider cannot run may still be placed on the CPU by the runtime.
   */
  readonly executionProviders?: readonly ExecutionProviderName[];
  /** Threads inside one operator (default: the runtime's choice). */
  readonly intraOpThreads?: number;
  /** Graph rewrites before running (default 'all'). */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** The runtime's log level for this session (default 'warning'); 'verbose' prints node placement. */
  readonly logVerbosity?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  /** Where outputs land: one location for all, or per output name (default 'cpu'). */
  readonly preferredOutputLocation?: OutputLocation | Readonly<Record<string, OutputLocation>>;
  /** Fixes symbolic dimensions by name at load time, e.g. { batch: 1 }, letting the runtime specialise. */
  readonly freeDimensionOverrides?: Readonly<Record<string, number>>;
  /**
   * Whether the session keeps its own CPU memory arena between runs (default: the runtime's, on for onnxruntime).
   * Off returns freed buffers to the system: many small sessions (a segmented decoder) otherwise each hold an
   * arena sized by their largest run. A hint: backends without such an arena ignore it.
   */
  readonly cpuMemoryArena?: boolean;
}

/** Feeds of one run: a tensor per model input name. */
export type Feeds = Readonly<Record<string, BackendTensor>>;

/** Options of one run. */
export interface RunOptions {
  /** The outputs to compute and return (default: all). Outputs named in `outputs` are fetched too. */
  readonly fetches?: readonly string[];
  /**
   * Preallocated tensors by output name, written in place: after the run the returned tensor for that name is
   * the very object given here. Type and shape must match the output exactly, else QaqError('invalid-output').
   * Needs `capabilities.supportsPreallocatedOutputs`.
   */
  readonly outputs?: Readonly<Record<string, BackendTensor>>;
}

/** One loaded model. */
export interface BackendSession {
  /** The provider the session actually runs on (the first of the requested ones that worked here). */
  readonly provider: ExecutionProviderName;
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  readonly disposed: boolean;
  /**
   * Runs the model. Validates every feed (name, type, rank, fixed and symbolic dimensions) and every requested
   * output before running, throwing 'invalid-feed' / 'invalid-fetch' / 'invalid-output'; after dispose()
   * throws 'session-disposed'. Returns the fetched outputs by name. Returned tensors the caller did not
   * preallocate belong to the caller, who disposes them.
   */
  run(feeds: Feeds, options?: RunOptions): Promise<Readonly<Record<string, BackendTensor>>>;
  /** Releases the session; idempotent. Tensors it returned stay valid. */
  dispose(): Promise<void>;
}
