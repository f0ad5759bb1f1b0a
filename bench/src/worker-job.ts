import { engineNames, type EngineName } from './bench-engine.js';

export interface WorkerJob {
  readonly engine: EngineName;
  readonly model: string;
  readonly modelPath: string;
  /** Int32 little-endian token ids, at least `contextTokens` of them. */
  readonly tokenFile: string;
  readonly contextTokens: number;
  readonly decodeSteps: number;
  readonly threads: number;
  readonly prefillChunk: number;
  /** Our runtime's KV method. */
  readonly kv: string;
  /** onnxruntime intra-op spinning for our runtime: 'default' leaves the backend's choice. */
  readonly spinning: 'default' | 'on' | 'off';
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`worker job: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`worker job: ${name} must be a non-empty string`);
  return value;
}

export function spinningChoice(value: unknown): WorkerJob['spinning'] {
  if (value === 'default' || value === 'on' || value === 'off') return value;
  throw new Error(`spinning must be default, on or off, got ${String(value)}`);
}

/** Parses and checks the JSON job a worker gets on its command line. */
export function parseWorkerJob(argument: string | undefined): WorkerJob {
  const parsed: unknown = JSON.parse(argument ?? 'null');
  if (typeof parsed !== 'object' || parsed === null) throw new Error('worker job: expected a JSON object');
  const record = parsed as Record<string, unknown>;
  const engine = record['engine'];
  if (!engineNames.includes(engine as EngineName)) throw new Error(`worker job: unknown engine ${String(engine)}`);
  return {
    engine: engine as EngineName,
    model: text(record['model'], 'model'),
    modelPath: text(record['modelPath'], 'modelPath'),
    tokenFile: text(record['tokenFile'], 'tokenFile'),
    contextTokens: positiveInteger(record['contextTokens'], 'contextTokens'),
    decodeSteps: positiveInteger(record['decodeSteps'], 'decodeSteps'),
    threads: positiveInteger(record['threads'], 'threads'),
    prefillChunk: positiveInteger(record['prefillChunk'], 'prefillChunk'),
    kv: text(record['kv'], 'kv'),
    spinning: spinningChoice(record['spinning']),
  };
}
