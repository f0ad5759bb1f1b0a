import type { EvaluationRecord } from './evaluation-record.js';
import type { MethodEvaluation } from './streaming-evaluation.js';

/** Rounds for JSON without losing what the figures can tell (6 significant digits). */
export function significant(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(6)) : value;
}

export interface ContractRecordInput {
  readonly model: string;
  readonly method: string;
  readonly tokens: number;
  readonly context: number;
  readonly stride: number;
  readonly windows: number;
  readonly seconds: number;
  readonly evaluation: MethodEvaluation;
  readonly peakResidentBytes: number | null;
  readonly text: string | null;
  readonly qaqSettings: EvaluationRecord['qaq_settings'];
  readonly provider: string;
}

/**
 * One method's `EvaluationRecord` from its streaming evaluation: the single place the contract's fields are
 * derived, so `qaq eval` and every peer evaluator report the same figures the same way.
 */
export function contractRecord(input: ContractRecordInput): EvaluationRecord {
  const { metrics, memory } = input.evaluation;
  return {
    model: input.model,
    method: input.method,
    tokens: input.tokens,
    context: input.context,
    ppl: significant(metrics.perplexity),
    ppl_reference: significant(metrics.referencePerplexity),
    kl_mean: significant(metrics.klMean),
    kl_p99: significant(metrics.klP99),
    top1_agreement: significant(metrics.topOneAgreement),
    bits_per_element: significant(memory.bitsPerElement),
    compression_ratio: significant(memory.bytes === 0 ? 0 : memory.fp16Bytes / memory.bytes),
    kv_bytes: Math.round(memory.bytes),
    kv_bytes_fp16: Math.round(memory.fp16Bytes),
    decode_tokens_per_s: significant(input.evaluation.decodeTokensPerSecond),
    peak_rss_bytes: input.peakResidentBytes,
    ...(memory.policyBytes > 0 ? { policy_bytes: Math.round(memory.policyBytes) } : {}),
    bits_per_element_peak: significant(memory.peakBitsPerElement),
    scored_tokens: metrics.scoredTokens,
    stride: input.stride,
    windows: input.windows,
    kl_max: significant(metrics.klMax),
    text: input.text,
    qaq_settings: input.qaqSettings,
    provider: input.provider,
    seconds: significant(input.seconds),
  };
}
