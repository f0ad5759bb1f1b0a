import type { KeyValueMemory } from './key-value-store.js';

/** What a layer's attention needs to know about the model (from DecoderConfig). */
export interface LayerAttentionShape {
  readonly layerCount: number;
  readonly queryHeadCount: number;
  readonly keyValueHeadCount: number;
  readonly headDim: number;
  /** The model's score scale c (1/√D for Llama, query_pre_attn_scalar^−½ for Gemma 3). */
  readonly scoreScale: number;
  /** Per layer: the sliding window in tokens, or null for full attention. */
  readonly slidingWindows: readonly (number | null)[];
}

/**
 * Attention between two decoder segments over a cache the strategy owns. `attend` is called once per layer and
 * step, in layer order, with the S new tokens' query [S, queryHeads, headDim] (unscaled), key and value
 * [S, kvHeads, headDim]; it appends key/value to its cache and writes [S, queryHeads · headDim] into `output`.
 * `attend` may return a promise (attention on a backend session); the caller awaits it before the next segment.
 * `endStep` is called after the last layer of a step (policies that plan every layer run there or per layer).
 */
export interface LayerAttention {
  /** A short name for reports, e.g. 'qaq:quality' or 'uniform:4'. */
  readonly name: string;
  attend(layer: number, query: Float32Array, key: Float32Array, value: Float32Array, tokenCount: number, output: Float32Array): void | Promise<void>;
  /** Tokens cached for `layer` (after sliding-window eviction). */
  tokenCount(layer: number): number;
  /** Drops every token; the strategy stays usable. */
  reset(): void;
  /** Bytes held from the cache's exact accounting. */
  memory(): KeyValueMemory;
  /** Returns the cache's memory (WebAssembly arena blocks); the strategy must not be used afterwards. */
  dispose(): void | Promise<void>;
}
