import { AttentionWorkspace, KiviCache, referenceAttentionMulti } from '@qaq/kv-cache';
import { memoryFromAccounting } from './cache-memory.js';
import type { KeyValueMemory } from './key-value-store.js';
import type { LayerAttention, LayerAttentionShape } from './layer-attention.js';

export interface KiviAttentionOptions {
  readonly shape: LayerAttentionShape;
  readonly bits: number;
  /** G: tokens per per-channel key block (default 32). */
  readonly blockTokens?: number;
  /** R: fp16 residual tokens (default 128, as KIVI). */
  readonly residualTokens?: number;
}

/**
 * The KIVI baseline (keys per channel over blocks of G tokens, values per token, fp16 residual). The fused kernel
 * does not read KiviCache's layout, so attention is @qaq/kv-cache's float64 reference: it dequantizes one layer
 * into a reused workspace per call (transient fp32 bounded by one layer) and is slow — a quality baseline, not a
 * speed one. Sliding layers drop each quantized block once all its tokens are out of the window (what a KIVI cache
 * for such a layer holds: the window, at most one partly visible block, and the fp16 residual), so the bytes and
 * bits/element it reports are those of tokens it can still attend to.
 */
export class KiviAttention implements LayerAttention {
  readonly name: string;
  readonly #shape: LayerAttentionShape;
  readonly #workspace = new AttentionWorkspace();
  readonly #options: KiviAttentionOptions;
  #cache: KiviCache;

  constructor(options: KiviAttentionOptions) {
    this.#shape = options.shape;
    this.#options = options;
    this.name = `kivi:${options.bits}`;
    this.#cache = this.#createCache();
  }

  #createCache(): KiviCache {
    const { shape, bits } = this.#options;
    return new KiviCache({
      layers: shape.layerCount,
      kvHeads: shape.keyValueHeadCount,
      headDim: shape.headDim,
      keyBits: bits,
      valueBits: bits,
      blockTokens: this.#options.blockTokens ?? 32,
      residualTokens: this.#options.residualTokens ?? 128,
    });
  }

  get cache(): KiviCache {
    return this.#cache;
  }

  tokenCount(layer: number): number {
    return this.#cache.tokenCount(layer);
  }

  attend(layer: number, query: Float32Array, key: Float32Array, value: Float32Array, tokenCount: number, output: Float32Array): void {
    const { queryHeadCount, scoreScale, slidingWindows } = this.#shape;
    const window = slidingWindows[layer] ?? null;
    this.#cache.append(layer, key, value, tokenCount);
    referenceAttentionMulti(
      this.#cache,
      layer,
      query,
      tokenCount,
      window === null ? { queryHeads: queryHeadCount, scoreScale } : { queryHeads: queryHeadCount, scoreScale, slidingWindow: window },
      output,
      null,
      this.#workspace,
    );
    if (window !== null) this.#evictOutsideWindow(layer, window);
  }

  /** Drops the blocks no later query can see: the next query (index T) sees tokens after T − window. */
  #evictOutsideWindow(layer: number, window: number): void {
    const firstVisible = this.#cache.tokenCount(layer) - window + 1;
    const blocks = Math.min(this.#cache.blockCount(layer), Math.floor(firstVisible / this.#cache.blockTokens));
    if (blocks > 0) this.#cache.dropOldestBlocks(layer, blocks);
  }

  reset(): void {
    // KiviCache has no eviction: start a fresh one (its buffers are plain JS memory).
    this.#cache = this.#createCache();
  }

  memory(): KeyValueMemory {
    return memoryFromAccounting(this.#cache.accounting());
  }

  dispose(): void {}
}
