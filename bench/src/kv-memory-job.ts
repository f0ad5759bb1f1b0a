import type { KeyValueMemory } from '@qaq/runtime';
import type { KvBreakdown } from './kv-breakdown.js';
import type { KernelArenaBytes } from './kv-memory-arena.js';
import type { Measurement } from './run-measurement.js';
import { parseJobRecord, parseTextRunJob, type TextRunJob } from './text-run-job.js';

/** One model × context × KV method, measured in its own process by kv-memory-worker.ts. */
export interface KvMemoryJob extends TextRunJob {
  /** onnxruntime's CPU memory arena for every session: 'default' leaves the backend's choice (on). */
  readonly cpuArena: 'default' | 'on' | 'off';
}

export interface KvMemoryResult extends Measurement {
  readonly model: string;
  readonly kv: string;
  /** Canonical method name as the runtime reports it. */
  readonly methodName: string;
  readonly contextTokens: number;
  /** Tokens in the cache when read (context + decode steps, per full-attention layer). */
  readonly cachedTokens: number;
  readonly memory: KeyValueMemory;
  /** fp16Bytes / bytes. */
  readonly compressionVersusFp16: number;
  readonly breakdown: KvBreakdown | null;
  readonly loadSeconds: number;
  readonly peakResidentMegabytes: number;
  /** The kernel's WebAssembly memory holding the compact cache (absent for other caches and older rows). */
  readonly kernelArena?: KernelArenaBytes | null;
  /** The job's arena choice (absent in rows measured before the flag existed: 'default'). */
  readonly cpuArena?: KvMemoryJob['cpuArena'];
}

/** Parses and checks the JSON job a worker gets on its command line. */
export function parseKvMemoryJob(argument: string | undefined): KvMemoryJob {
  const record = parseJobRecord(argument, 'kv-memory job');
  return { ...parseTextRunJob(record, 'kv-memory job'), cpuArena: arenaChoice(record['cpuArena']) };
}

export function arenaChoice(value: unknown): KvMemoryJob['cpuArena'] {
  if (value === 'default' || value === 'on' || value === 'off') return value;
  throw new Error(`cpu arena must be default, on or off, got ${String(value)}`);
}
