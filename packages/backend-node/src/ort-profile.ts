import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QaqError } from '@qaq/errors';

/** Kernel time of one operator type over the runs read. */
export interface OperatorTime {
  readonly operator: string;
  readonly microseconds: number;
  /** Kernel executions (nodes × runs). */
  readonly calls: number;
}

export interface OrtProfileSummary {
  /** `model_run` events read (the runs kept by `lastRuns`). */
  readonly runs: number;
  /** Wall time of those runs inside onnxruntime, in µs. */
  readonly runMicroseconds: number;
  /** Sum of their kernels' times, in µs; the rest of `runMicroseconds` is scheduling between nodes. */
  readonly kernelMicroseconds: number;
  /** Per operator type, most expensive first. */
  readonly operators: readonly OperatorTime[];
}

interface TraceEvent {
  readonly cat?: unknown;
  readonly name?: unknown;
  readonly ts?: unknown;
  readonly dur?: unknown;
  readonly args?: { readonly op_name?: unknown };
}

/** The newest profile file onnxruntime wrote under `prefix` (it appends a timestamp and `.json`). */
export async function findOrtProfile(prefix: string): Promise<string> {
  const folder = dirname(prefix);
  const stem = basename(prefix);
  const candidates = (await readdir(folder)).filter((name) => name.startsWith(stem) && name.endsWith('.json'));
  const dated = await Promise.all(candidates.map(async (name) => ({ path: join(folder, name), time: (await stat(join(folder, name))).mtimeMs })));
  const newest = dated.sort((a, b) => b.time - a.time)[0];
  if (newest === undefined) {
    throw new QaqError('profile-missing', `no onnxruntime profile under ${prefix}`, { details: { prefix } });
  }
  return newest.path;
}

/**
 * Sums an onnxruntime profile (Chrome trace JSON) per operator type over the last `lastRuns` runs (default all),
 * e.g. the decode steps after a prefill.
 */
export function summarizeOrtProfile(json: string, lastRuns?: number): OrtProfileSummary {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new QaqError('invalid-profile', 'an onnxruntime profile is a JSON array of events', { details: {} });
  const events = parsed as TraceEvent[];
  const number = (value: unknown): number => (typeof value === 'number' ? value : 0);
  const runs = events.filter((event) => event.cat === 'Session' && event.name === 'model_run');
  const kept = lastRuns === undefined ? runs : runs.slice(Math.max(0, runs.length - lastRuns));
  const from = kept.length === 0 ? Number.POSITIVE_INFINITY : number(kept[0]!.ts);
  const byOperator = new Map<string, { microseconds: number; calls: number }>();
  let kernelMicroseconds = 0;
  for (const event of events) {
    if (event.cat !== 'Node' || typeof event.name !== 'string' || !event.name.endsWith('_kernel_time')) continue;
    if (number(event.ts) < from) continue;
    const operator = typeof event.args?.op_name === 'string' ? event.args.op_name : 'unknown';
    const entry = byOperator.get(operator) ?? { microseconds: 0, calls: 0 };
    entry.microseconds += number(event.dur);
    entry.calls += 1;
    byOperator.set(operator, entry);
    kernelMicroseconds += number(event.dur);
  }
  return {
    runs: kept.length,
    runMicroseconds: kept.reduce((sum, event) => sum + number(event.dur), 0),
    kernelMicroseconds,
    operators: [...byOperator].map(([operator, entry]) => ({ operator, ...entry })).sort((a, b) => b.microseconds - a.microseconds),
  };
}

/** Reads and sums the profile a session wrote (see `NodeSessionOptions.profileFilePrefix`). */
export async function readOrtProfile(path: string, lastRuns?: number): Promise<OrtProfileSummary> {
  return summarizeOrtProfile(await readFile(path, 'utf8'), lastRuns);
}
