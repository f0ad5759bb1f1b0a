import type { KeyValueMemory } from '@qaq/runtime';
import type { KvBreakdown } from './kv-breakdown.js';
import type { Measurement } from './run-measurement.js';

/** One model × context × KV method, measured in its own process by kv-memory-worker.ts. */
export interface KvMemoryJob {
  readonly model: string;
  readonly modelPath: string;
  /** Int32 little-endian token ids, at least `contextTokens` of them. */
  readonly tokenFile: string;
  readonly contextTokens: number;
  readonly decodeSteps: number;
  readonly threads: number;
  readonly prefillChunk: number;
  /** The runtime's KV method text. */
  readonly kv: string;
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
  /** The job's arena choice (absent in rows measured before the flag existed: 'default'). */
  readonly cpuArena?: KvMemoryJob['cpuArena'];
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`kv-memory job: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`kv-memory job: ${name} must be a non-empty string`);
  return value;
}

/** Parses and checks the JSON job a worker gets on its command line. */
export function parseKvMemoryJob(argument: string | undefined): KvMemoryJob {
  const parsed: unknown = JSON.parse(argument ?? 'null');
  if (typeof parsed !== 'object' || parsed === null) throw new Error('kv-memory job: expected a JSON object');
  const record = parsed as Record<string, unknown>;
  return {
    model: text(record['model'], 'model'),
    modelPath: text(record['modelPath'], 'modelPath'),
    tokenFile: text(record['tokenFile'], 'tokenFile'),
    contextTokens: positiveInteger(record['contextTokens'], 'contextTokens'),
    decodeSteps: positiveInteger(record['decodeSteps'], 'decodeSteps'),
    threads: positiveInteger(record['threads'], 'threads'),
    prefillChunk: positiveInteger(record['prefillChunk'], 'prefillChunk'),
    kv: text(record['kv'], 'kv'),
    cpuArena: arenaChoice(record['cpuArena']),
  };
}

export function arenaChoice(value: unknown): KvMemoryJob['cpuArena'] {
  if (value === 'default' || value === 'on' || value === 'off') return value;
  throw new Error(`cpu arena must be default, on or off, got ${String(value)}`);
}
