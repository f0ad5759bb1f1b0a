import { QaqError } from '@qaq/errors';

/** Anything whose layers read back as dense [tokens, kvHeads, headDim] keys and values. */
export interface AttentionSource {
  readonly kvHeads: number;
  readonly headDim: number;
  tokenCount(layer: number): number;
  readLayer(layer: number, keysOut: Float32Array, valuesOut: Float32Array): void;
}

export interface AttentionOptions {
  /** Query heads; a multiple of the KV heads. Query head h reads KV head floor(h / (queryHeads / kvHeads)). */
  readonly queryHeads: number;
  /** The model's score scale c. */
  readonly scoreScale: number;
  /** Sliding-window attention: a query at position p sees tokens p − window < j ≤ p. */
  readonly slidingWindow?: number;
  /**
   * maxProbabilities holds only the last `probabilityRows` query positions of the call ([probabilityRows, kvHeads,
   * tokenCount]); default every query. A policy that reads the last n steps needs n rows, not a prefill chunk's
   * hundreds: the buffer (and the work of filling it) shrinks accordingly.
   */
  readonly probabilityRows?: number;
  /**
   * Kernels may leave out of a decode step's value sum (one query position) every token whose probability is below
   * this for all the query heads of its KV head: the output then misses Σ_skipped p·v, at most this · max|v| per
   * skipped token. 0 or absent: every token (exact). The reference attention always sums every token.
   */
  readonly negligibleProbability?: number;
  /**
   * Kernels may score quantized keys against each query element rounded to 16 bits of its row's largest magnitude
   * (one integer product instead of two): each score then moves by at most scoreScale · step · Σ|codes| · max|q| /
   * 32766, below the rounding of a key at 8 bits and far below it at 2–4. fp16 tokens and every statistic of the
   * scores are computed as without it. Absent or false: exact. The reference attention is always exact.
   */
  readonly fastScores?: boolean;
  /**
   * Kernels may sum a decode step's values (one query position) in integers: per block of 64 tokens, each weight
   * p·step rounded to 16 bits of the block's largest W, so a row's output moves by at most Σ_t (W_block(t) / 65534) ·
   * codes_t — per token a 2^-16 share of the block's largest weight, far below the values' own rounding. fp16
   * tokens, tokens some query head gives a probability of 1/128 or more, and the minima's share (p·(m + step/2)) stay
   * exact. Absent or false: exact. The reference attention is always exact.
   */
  readonly fastValues?: boolean;
}

/** How many query rows a call's maxProbabilities holds: the last min(probabilityRows, queryCount). */
export function probabilityRowCount(queryCount: number, options: Pick<AttentionOptions, 'probabilityRows'>): number {
  return Math.min(queryCount, options.probabilityRows ?? queryCount);
}

/** Scratch for reference attention, grown by doubling and reused across calls. */
export class AttentionWorkspace {
  keys = new Float32Array(0);
  values = new Float32Array(0);
  scores = new Float64Array(0);

  reserve(elements: number, tokens: number): void {
    if (this.keys.length < elements) {
      const size = Math.max(elements, this.keys.length * 2);
      this.keys = new Float32Array(size);
      this.values = new Float32Array(size);
    }
    if (this.scores.length < tokens) this.scores = new Float64Array(Math.max(tokens, this.scores.length * 2));
  }
}

/**
 * Reference attention over a cache layer, one query step: queries [queryHeads, headDim] attend to every cached
 * token. Writes output [queryHeads, headDim] and, when given, maxProbabilities [kvHeads, tokenCount]: each token's
 * maximum attention probability over the query heads sharing the KV head (what the policy observes).
 */
export function referenceAttention(
  source: AttentionSource,
  layer: number,
  queries: Float32Array,
  options: AttentionOptions,
  output: Float32Array,
  maxProbabilities: Float32Array | null,
  workspace: AttentionWorkspace = new AttentionWorkspace(),
): void {
  referenceAttentionMulti(source, layer, queries, 1, options, output, maxProbabilities, workspace);
}

/**
 * Multi-query reference attention (prefill) with a causal mask: queries [queryCount, queryHeads, headDim] are the
 * last queryCount positions of the layer, query i at position p = tokenCount − queryCount + i seeing tokens ≤ p.
 * output [queryCount, queryHeads, headDim]; maxProbabilities, when given, [queryCount, kvHeads, tokenCount] with
 * zeros for masked tokens (only the last `options.probabilityRows` rows when set). Float64 accumulation throughout.
 */
export function referenceAttentionMulti(
  source: AttentionSource,
  layer: number,
  queries: Float32Array,
  queryCount: number,
  options: AttentionOptions,
  output: Float32Array,
  maxProbabilities: Float32Array | null,
  workspace: AttentionWorkspace = new AttentionWorkspace(),
): void {
  const { kvHeads, headDim } = source;
  const { queryHeads, scoreScale } = options;
  const tokenCount = validateAttentionCall(source, layer, queries, queryCount, options, output, maxProbabilities);
  const window = options.slidingWindow ?? Number.POSITIVE_INFINITY;
  const rowLength = queryHeads * headDim;
  const tokenLength = kvHeads * headDim;
  workspace.reserve(tokenCount * tokenLength, tokenCount);
  source.readLayer(layer, workspace.keys, workspace.values);
  const { keys, values, scores } = workspace;
  const groupSize = queryHeads / kvHeads;
  const probabilityRows = probabilityRowCount(queryCount, options);
  const skippedRows = queryCount - probabilityRows;
  if (maxProbabilities !== null) maxProbabilities.fill(0, 0, probabilityRows * kvHeads * tokenCount);
  for (let query = 0; query < queryCount; query += 1) {
    const position = tokenCount - queryCount + query;
    const first = Math.max(0, Math.floor(position - window + 1));
    for (let head = 0; head < queryHeads; head += 1) {
      const kvHead = Math.floor(head / groupSize);
      const queryOffset = query * rowLength + head * headDim;
      let maximum = Number.NEGATIVE_INFINITY;
      for (let token = first; token <= position; token += 1) {
        const keyOffset = token * tokenLength + kvHead * headDim;
        let dot = 0;
        for (let element = 0; element < headDim; element += 1) {
          dot += (queries[queryOffset + element] as number) * (keys[keyOffset + element] as number);
        }
        const score = dot * scoreScale;
        scores[token] = score;
        if (score > maximum) maximum = score;
      }
      let sum = 0;
      for (let token = first; token <= position; token += 1) {
        const weight = Math.exp((scores[token] as number) - maximum);
        scores[token] = weight;
        sum += weight;
      }
      for (let element = 0; element < headDim; element += 1) output[queryOffset + element] = 0;
      const probabilities = query >= skippedRows ? maxProbabilities : null;
      const probabilityRow = ((query - skippedRows) * kvHeads + kvHead) * tokenCount;
      for (let token = first; token <= position; token += 1) {
        const probability = (scores[token] as number) / sum;
        if (probabilities !== null && probability > (probabilities[probabilityRow + token] as number)) {
          probabilities[probabilityRow + token] = probability;
        }
        scores[token] = probability;
      }
      for (let element = 0; element < headDim; element += 1) {
        let accumulator = 0;
        for (let token = first; token <= position; token += 1) {
          accumulator += (scores[token] as number) * (values[token * tokenLength + kvHead * headDim + element] as number);
        }
        output[queryOffset + element] = accumulator;
      }
    }
  }
}

/**
 * Checks an attention call (shapes, GQA mapping, score scale, window, finite queries) before anything is read or
 * written; every implementation over the compact cache validates through this one function. Returns the layer's
 * token count.
 */
export function validateAttentionCall(
  source: Pick<AttentionSource, 'kvHeads' | 'headDim' | 'tokenCount'>,
  layer: number,
  queries: Float32Array,
  queryCount: number,
  options: AttentionOptions,
  output: Float32Array,
  maxProbabilities: Float32Array | null,
): number {
  const { kvHeads, headDim } = source;
  const { queryHeads, scoreScale } = options;
  const tokenCount = source.tokenCount(layer);
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
  const negligibleProbability = options.negligibleProbability ?? 0;
  if (!(negligibleProbability >= 0 && negligibleProbability < 1)) {
    throw new QaqError('invalid-argument', 'negligibleProbability must be in [0, 1)', { details: { negligibleProbability } });
  }
  if (!Number.isInteger(queryCount) || queryCount < 1 || queryCount > tokenCount) {
    fail('queryCount must be in 1..tokenCount', { queryCount, tokenCount });
  }
  const rowLength = queryHeads * headDim;
  if (queries.length !== queryCount * rowLength) fail('queries must be [queryCount, queryHeads, headDim]', { length: queries.length });
  if (output.length < queryCount * rowLength) fail('output is too small', { length: output.length });
  const { probabilityRows } = options;
  if (probabilityRows !== undefined && (!Number.isInteger(probabilityRows) || probabilityRows < 1)) {
    throw new QaqError('invalid-argument', 'probabilityRows must be a positive integer', { details: { probabilityRows } });
  }
  if (maxProbabilities !== null && maxProbabilities.length < probabilityRowCount(queryCount, options) * kvHeads * tokenCount) {
    fail('maxProbabilities must be [min(probabilityRows, queryCount), kvHeads, tokenCount]', { length: maxProbabilities.length });
  }
  for (let index = 0; index < queries.length; index += 1) {
    if (!Number.isFinite(queries[index])) {
      throw new QaqError('non-finite-input', 'queries hold NaN or Inf', { details: { index } });
    }
  }
  return tokenCount;
}
