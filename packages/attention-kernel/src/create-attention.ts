import { KvCache, type KvCacheConfig } from '@qaq/kv-cache';
import { JsAttention } from './js-attention.js';
import type { KernelAttentionOptions } from './validate-attention.js';
import { WasmAttention } from './wasm-attention.js';
import { simdSupported } from './webassembly-runtime.js';

/** What both implementations offer: make a cache they read in place, then attend over it. */
export interface CompactAttention {
  readonly kind: 'wasm-simd' | 'js';
  createCache(config: KvCacheConfig): KvCache;
  attendMulti(
    cache: KvCache,
    layer: number,
    queries: Float32Array,
    queryCount: number,
    options: KernelAttentionOptions,
    output: Float32Array,
    maxProbabilities: Float32Array | null,
  ): void;
}

class JsCompactAttention implements CompactAttention {
  readonly kind = 'js' as const;
  private readonly attention = new JsAttention();

  createCache(config: KvCacheConfig): KvCache {
    return new KvCache(config);
  }

  attendMulti(...args: Parameters<CompactAttention['attendMulti']>): void {
    this.attention.attendMulti(...args);
  }
}

/** The WebAssembly SIMD kernel where the host supports simd128 (unless `preferJs`), else the JS fallback. */
export async function createAttention(options: { preferJs?: boolean } = {}): Promise<CompactAttention> {
  if (options.preferJs !== true && simdSupported()) return WasmAttention.create();
  return new JsCompactAttention();
}
