import { validateAttentionCall, type AttentionOptions, type KvCache } from '@qaq/kv-cache';

/** Same options as @qaq/kv-cache's reference attention. */
export type KernelAttentionOptions = AttentionOptions;

/** Checks an attention call exactly as referenceAttentionMulti does (the same function); returns the token count. */
export function validateAttention(
  cache: KvCache,
  layer: number,
  queries: Float32Array,
  queryCount: number,
  options: KernelAttentionOptions,
  output: Float32Array,
  maxProbabilities: Float32Array | null,
): number {
  return validateAttentionCall(cache, layer, queries, queryCount, options, output, maxProbabilities);
}

/** Query heads per KV head up to which a decode step can skip negligible tokens (the kernel's per-row thresholds). */
const MAXIMUM_SKIPPING_ROWS = 8;

/**
 * The τ a call applies (AttentionOptions.negligibleProbability): decode steps only (one query position; in a prefill
 * chunk nearly every token matters to some row) with at most 8 query heads per KV head; 0 otherwise.
 */
export function negligibleProbabilityFor(queryCount: number, headsPerKv: number, options: KernelAttentionOptions): number {
  return queryCount === 1 && headsPerKv <= MAXIMUM_SKIPPING_ROWS ? (options.negligibleProbability ?? 0) : 0;
}

/** The WASM kernel's flags word (attention.ts FLAG_FAST_SCORES, FLAG_FAST_VALUES) for a call's options. */
export function kernelFlags(options: Pick<KernelAttentionOptions, 'fastScores' | 'fastValues'>): number {
  return (options.fastScores === true ? 1 : 0) | (options.fastValues === true ? 2 : 0);
}

/** First visible token of a query at `position` (integer window or none). */
export function firstVisibleToken(position: number, window: number | undefined): number {
  return window === undefined || !Number.isFinite(window) ? 0 : Math.max(0, Math.floor(position - window + 1));
}

/** Scores held at once (rows × tokens, 1 MB of f32, about one L2): bounds prefill scratch whatever the length. */
const SCORE_BUDGET = 1 << 18;

/** Query positions per kernel call so that their score rows stay within the budget (at least one). */
export function queryBlockSize(headsPerKv: number, tokenCount: number, headDim: number): number {
  return Math.max(1, Math.floor(SCORE_BUDGET / (headsPerKv * (tokenCount + headDim))));
}
