/** Bytes the cache holds, from its own accounting, beside what an fp16 cache of the same tokens would hold. */
export interface KeyValueMemory {
  /** Bytes really held for live tokens (codes, parameters, outliers, windows, tiers). */
  readonly bytes: number;
  /** Bytes allocated but not holding live tokens (capacity growth, freed slots). */
  readonly slackBytes: number;
  /** What an fp16 cache of the same live tokens would hold. */
  readonly fp16Bytes: number;
  /** Live cached elements (keys and values, all layers). */
  readonly elements: number;
  /** All-in bits per cached element: 8 · bytes / elements. */
  readonly bitsPerElement: number;
  /**
   * Of `bytes`, what a QAQ policy keeps beside the cache for the live tokens (its attention statistics); absent
   * for fixed-width methods.
   */
  readonly policyBytes?: number;
}

/**
 * The runtime's view of a KV cache for graphs whose attention reads `past_key.{i}` / `past_value.{i}`
 * ([1, P, kvHeads, headDim], token-major) and emits the new tokens' `key.{i}` / `value.{i}`.
 */
export interface KeyValueStore {
  readonly layerCount: number;
  /** Tokens whose keys and values are visible to the next step of `layer` (after sliding-window eviction). */
  pastLength(layer: number): number;
  /** Token-major view of the visible past keys or values of `layer`: pastLength · kvHeads · headDim floats. */
  pastView(layer: number, kind: 'key' | 'value'): Float32Array;
  /**
   * Where the next `tokenCount` tokens of `layer` will be written (token-major). Grows storage if needed; the graph
   * writes the new keys and values there directly, then `commit` makes them part of the past.
   */
  reserve(layer: number, tokenCount: number, kind: 'key' | 'value'): Float32Array;
  /** Makes the last reserved tokens of every layer part of the past and applies sliding-window eviction. */
  commit(tokenCount: number): void;
  /** Drops every token; keeps the allocated storage for reuse. */
  reset(): void;
  memory(): KeyValueMemory;
}
