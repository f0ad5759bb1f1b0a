import { QaqError } from '@qaq/errors';
import type { KvCache } from '@qaq/kv-cache';

/** Same options as @qaq/kv-cache's reference attention. */
export interface KernelAttentionOptions {
  /** Query heads; a multiple of the KV heads. Query head h reads KV head floor(h / (queryHeads / kvHeads)). */
  readonly queryHeads: number;
  /** The model's score scale c. */
  readonly scoreScale: number;
  /** Sliding-window attention: a query at position p sees tokens p − window < j ≤ p. */
  readonly slidingWindow?: number;
}

/** Checks an attention call exactly as referenceAttentionMulti does; returns the token count. */
export function validateAttention(
  cache: KvCache,
  layer: number,
  queries: Float32Array,
  queryCount: number,
  options: KernelAttentionOptions,
  output: Float32Array,
  maxProbabilities: Float32Array | null,
): number {
  const { kvHeads, headDim } = cache;
  const { queryHeads, scoreScale } = options;
  const tokenCount = cache.tokenCount(layer);
  const fail = (message: string, details: Record<string, unknown>): never => {
    throw new QaqError('shape-mismatch', message, { details });
  };
  if (!Number.isInteger(queryHeads) || queryHeads < 1 || queryHeads % kvHeads !== 0) {
    fail('queryHeads must be a positive multiple of kvHeads', { queryHeads, kvHeads });
  }
  if (!(Number.isFinite(scoreScale) && scoreScale > 0)) {
    throw new QaqError('invalid-argument', 'scoreScale must be finite and > 0', { details: { scoreScale } });
  }
  const window = options.slidingWindow ?? Number.POSITIVE_INFINITY;
  if (!(window >= 1)) throw new QaqError('invalid-argument', 'slidingWindow must be ≥ 1', { details: { window } });
  if (!Number.isInteger(queryCount) || queryCount < 1 || queryCount > tokenCount) {
    fail('queryCount must be in 1..tokenCount', { queryCount, tokenCount });
  }
  const rowLength = queryHeads * headDim;
  if (queries.length !== queryCount * rowLength) fail('queries must be [queryCount, queryHeads, headDim]', { length: queries.length });
  if (output.length < queryCount * rowLength) fail('output is too small', { length: output.length });
  if (maxProbabilities !== null && maxProbabilities.length < queryCount * kvHeads * tokenCount) {
    fail('maxProbabilities must be [queryCount, kvHeads, tokenCount]', { length: maxProbabilities.length });
  }
  for (let index = 0; index < queries.length; index += 1) {
    if (!Number.isFinite(queries[index])) {
      throw new QaqError('non-finite-input', 'queries hold NaN or Inf', { details: { index } });
    }
  }
  return tokenCount;
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
