import type { QaqSettings } from '@qaq/runtime';

/**
 * One method's result on one text: the `qaq eval --json` contract (snake_case; scripts rely on these keys) plus
 * extras. Memory figures are averages over the windows, each sampled after the window's last token was fed (the
 * cache then holds the window: `context` tokens when the text is at least that long).
 */
export interface EvaluationRecord {
  readonly model: string;
  /** Canonical method text (`formatKvMethod`). */
  readonly method: string;
  /** Text tokens evaluated (the first `tokens` of the text; every one but the first is scored once). */
  readonly tokens: number;
  readonly context: number;
  /** exp(mean −log p(next token)) under the method. */
  readonly ppl: number;
  /** The same for the fp32 reference on the same tokens in the same process. */
  readonly ppl_reference: number;
  /** Mean KL(reference ‖ method) per scored token, nats. */
  readonly kl_mean: number;
  /** Nearest-rank 99th percentile of the per-token KL. */
  readonly kl_p99: number;
  /** Share of scored tokens where both argmax tokens agree. */
  readonly top1_agreement: number;
  /**
   * Held cache bytes × 8 / cached elements (every overhead counted; fp32 reports 32), averaged over the last 128
   * decode steps of every window, so a QAQ cache's plan cadence is seen whole.
   */
  readonly bits_per_element: number;
  /** kv_bytes_fp16 / kv_bytes. */
  readonly compression_ratio: number;
  readonly kv_bytes: number;
  readonly kv_bytes_fp16: number;
  /** The method's single-token forward() calls per second (the reference excluded). */
  readonly decode_tokens_per_s: number;
  /** Peak resident set of the process, from the caller (null where the host cannot tell). */
  readonly peak_rss_bytes: number | null;
  // Extras.
  /** Of kv_bytes, the QAQ policy's attention statistics for the cached tokens (absent for other methods). */
  readonly policy_bytes?: number;
  /** The largest bits/element over those steps (absent in records made before it was measured). */
  readonly bits_per_element_peak?: number;
  readonly scored_tokens: number;
  readonly stride: number;
  readonly windows: number;
  readonly kl_max: number;
  /** A name for the text (file name or book), when the caller gave one. */
  readonly text: string | null;
  /** QAQ's settings (preset or overrides), else null. */
  readonly qaq_settings: QaqSettings | null;
  readonly provider: string;
  /** Wall seconds of the whole evaluation (reference and every method run with it in lockstep). */
  readonly seconds: number;
}
