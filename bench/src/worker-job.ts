import { engineNames, type EngineName } from './bench-engine.js';
import { parseJobRecord, parseTextRunJob, type TextRunJob } from './text-run-job.js';

export interface WorkerJob extends TextRunJob {
  readonly engine: EngineName;
  /**
   * onnxruntime intra-op spinning for our runtime: 'default' leaves the backend's choice; 'run' spins only while a
   * run is in flight (allowSpinning + stopSpinningAfterRun).
   */
  readonly spinning: 'default' | 'on' | 'off' | 'run';
  /** Threads of the compact-cache attention kernel (1: single-thread kernel). */
  readonly attentionThreads: number;
}

export function spinningChoice(value: unknown): WorkerJob['spinning'] {
  if (value === 'default' || value === 'on' || value === 'off' || value === 'run') return value;
  throw new Error(`spinning must be default, on, off or run, got ${String(value)}`);
}

/** Parses and checks the JSON job a worker gets on its command line. */
export function parseWorkerJob(argument: string | undefined): WorkerJob {
  const record = parseJobRecord(argument, 'worker job');
  const engine = record['engine'];
  if (!engineNames.includes(engine as EngineName)) throw new Error(`worker job: unknown engine ${String(engine)}`);
  const attentionThreads = record['attentionThreads'] ?? 1;
  if (typeof attentionThreads !== 'number' || !Number.isSafeInteger(attentionThreads) || attentionThreads < 1) {
    throw new Error(`worker job: attentionThreads must be a positive integer, got ${String(attentionThreads)}`);
  }
  return {
    ...parseTextRunJob(record, 'worker job'),
    engine: engine as EngineName,
    spinning: spinningChoice(record['spinning']),
    attentionThreads,
  };
}
