import { isLlamaCacheType, type LlamaCacheType } from './llama-language-model.js';
import { parseJobRecord } from './text-run-job.js';

/** What eval-peer-worker.ts gets on its command line (JSON): llama.cpp cache types on one token file. */
export interface PeerEvaluationJob {
  readonly model: string;
  readonly modelPath: string;
  /** Evaluated in lockstep, one record each. */
  readonly cacheTypes: readonly LlamaCacheType[];
  /** Int32 little-endian token ids (our tokenizer's), all of them evaluated. */
  readonly tokenFile: string;
  readonly context: number;
  /** Window advance; absent: @qaq/evaluation's default (context / 2). */
  readonly stride?: number;
  readonly threads: number;
  readonly textName?: string;
}

export function parsePeerEvaluationJob(argument: string | undefined): PeerEvaluationJob {
  const record = parseJobRecord(argument, 'peer evaluation job');
  const text = (name: string): string => {
    const value = record[name];
    if (typeof value !== 'string' || value === '') throw new Error(`peer evaluation job: ${name} must be a non-empty string`);
    return value;
  };
  const positiveInteger = (name: string): number => {
    const value = record[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new Error(`peer evaluation job: ${name} must be a positive integer, got ${String(value)}`);
    }
    return value;
  };
  const cacheTypes = record['cacheTypes'];
  if (!Array.isArray(cacheTypes) || cacheTypes.length === 0 || !cacheTypes.every((type) => typeof type === 'string' && isLlamaCacheType(type))) {
    throw new Error(`peer evaluation job: cacheTypes must be a non-empty list of f16, q8_0, q4_0, got ${JSON.stringify(cacheTypes)}`);
  }
  if (new Set(cacheTypes).size !== cacheTypes.length) throw new Error('peer evaluation job: cacheTypes repeats a type');
  return {
    model: text('model'),
    modelPath: text('modelPath'),
    cacheTypes: cacheTypes as LlamaCacheType[],
    tokenFile: text('tokenFile'),
    context: positiveInteger('context'),
    ...(record['stride'] === undefined ? {} : { stride: positiveInteger('stride') }),
    threads: positiveInteger('threads'),
    ...(record['textName'] === undefined ? {} : { textName: text('textName') }),
  };
}
