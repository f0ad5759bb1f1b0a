/**
 * What the policy reads about attention: per layer and token (per KV head, or the maximum over heads), the
 * maximum attention probability over the window's steps, and whether the token was there for all of them.
 * Two stores implement it: `AttentionWindow` (a ring of the last n steps: any plan cadence) and
 * `RunningAttentionMaximum` (one running maximum per token, for plans at least n steps apart).
 */
export interface AttentionStatistics {
  readonly layers: number;
  readonly kvHeads: number;
  readonly window: number;
  readonly mergeHeads: boolean;
  tokenCount(layer: number): number;
  /** Tokens with at least `window` observations have a full window. */
  hasFullWindow(layer: number, token: number): boolean;
  observationCount(layer: number, token: number): number;
  /**
   * Records one step. `probabilities` is head-major [kvHeads, tokenCount]: for each KV head, each live token's
   * maximum attention probability over that head's query heads. The token count may only grow (new tokens appended
   * since the last step); shrink it with `evictOldest` first. `offset` and `headStride` read head h's row at
   * probabilities[offset + h · headStride …] (rows of a larger prefill matrix).
   */
  observe(layer: number, probabilities: Float32Array, tokenCount: number, offset?: number, headStride?: number): void;
  /** Window maximum of (layer, head, token); 0 for a token never observed. Needs per-head rows (no mergeHeads). */
  windowMax(layer: number, head: number, token: number): number;
  /** Maximum of windowMax over all KV heads (for groups that span every head of a layer). */
  windowMaxOverHeads(layer: number, token: number): number;
  /**
   * windowMax (per KV head, group-major: out[token · kvHeads + head]) or, with `overHeads`, windowMaxOverHeads
   * (out[token]) for tokens [0, tokenCount) at once. Equal to the per-token methods.
   */
  windowMaxima(layer: number, overHeads: boolean, out: Float32Array, tokenCount: number): void;
  /** Drops the `count` oldest tokens of a layer (sliding-window eviction). */
  evictOldest(layer: number, count: number): void;
  /** Bytes held (for memory reporting): live tokens, spare capacity and per-layer state. */
  byteLength(): number;
  /** Of byteLength, the bytes that hold live tokens' statistics (what grows with the context). */
  liveByteLength(): number;
}

export interface AttentionStatisticsOptions {
  /**
   * Keep only the maximum over KV heads of each step (what groups spanning every head of a layer read): kvHeads
   * times fewer bytes; windowMax per head is then unavailable. Default false.
   */
  readonly mergeHeads?: boolean;
}
