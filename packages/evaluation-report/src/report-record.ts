import { QaqError } from '@qaq/errors';

/**
 * One method's evaluation, as `qaq eval --json` (@qaq/evaluation's `evaluateMethod`) and the llama.cpp peer
 * evaluator write it: the contract's snake_case fields plus any extras, kept as they are.
 */
export interface ReportRecord {
  readonly model: string;
  readonly method: string;
  readonly tokens: number;
  readonly context: number;
  readonly ppl: number;
  readonly ppl_reference: number;
  readonly kl_mean: number;
  readonly kl_p99: number;
  /** Fraction of scored positions whose argmax matches the reference's, in [0, 1]. */
  readonly top1_agreement: number;
  readonly bits_per_element: number;
  readonly compression_ratio: number;
  readonly kv_bytes: number;
  readonly kv_bytes_fp16: number;
  readonly decode_tokens_per_s: number;
  readonly peak_rss_bytes: number;
  readonly [extra: string]: unknown;
}

/** A method the sweep could not evaluate, with the reason, so the report shows it instead of dropping it. */
export interface FailedMethod {
  readonly method: string;
  readonly error: string;
}

export const reportRecordNumberFields = [
  'tokens',
  'context',
  'ppl',
  'ppl_reference',
  'kl_mean',
  'kl_p99',
  'top1_agreement',
  'bits_per_element',
  'compression_ratio',
  'kv_bytes',
  'kv_bytes_fp16',
  'decode_tokens_per_s',
  'peak_rss_bytes',
] as const;

/**
 * Checks that `value` has every contract field with the right type (null, as JSON writes NaN, becomes NaN);
 * throws QaqError 'invalid-evaluation-record'.
 */
export function parseReportRecord(value: unknown): ReportRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new QaqError('invalid-evaluation-record', 'an evaluation record must be a JSON object', { details: { value } });
  }
  const record = value as Record<string, unknown>;
  for (const field of ['model', 'method'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') {
      throw new QaqError('invalid-evaluation-record', `evaluation record field "${field}" must be a non-empty string`, {
        details: { field, value: record[field] },
      });
    }
  }
  const parsed: Record<string, unknown> = { ...record };
  for (const field of reportRecordNumberFields) {
    // A metric that could not be computed is NaN in memory and null in JSON; a missing field or a non-number is an error.
    if (record[field] === null) {
      parsed[field] = Number.NaN;
      continue;
    }
    if (typeof record[field] !== 'number') {
      throw new QaqError('invalid-evaluation-record', `evaluation record field "${field}" must be a number`, {
        details: { field, value: record[field], method: record['method'] },
      });
    }
  }
  return parsed as ReportRecord;
}

/** Perplexity increase over the reference (the same model with a full-precision cache). */
export function deltaPerplexity(record: ReportRecord): number {
  return record.ppl - record.ppl_reference;
}

/** The method family a plot colours by: the text before the first ':' (e.g. 'uniform', 'qaq', 'llama-q8_0' → 'llama.cpp'). */
export function methodFamily(method: string): string {
  if (method.startsWith('llama-')) return 'llama.cpp';
  const family = method.split(':')[0] ?? method;
  return family === 'ort-int4' || family === 'ort-int8' ? 'onnxruntime' : family;
}
