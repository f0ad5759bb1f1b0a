import type { KvCacheConfig } from './config.js';
import { KvCache } from './kv-cache.js';
import { assertBits } from './validation.js';

/**
 * The uniform per-token B-bit baseline: the same compact cache (same groups, outliers, accounting and
 * attention) with every token appended at fixed bits and no policy.
 */
export class UniformKvCache extends KvCache {
  readonly bits: number;

  constructor(config: KvCacheConfig, bits: number) {
    assertBits('bits', bits);
    super(config);
    this.bits = bits;
  }

  /** append() at the fixed width. */
  appendUniform(layer: number, keys: Float32Array, values: Float32Array, tokenCount: number): number {
    return this.append(layer, keys, values, tokenCount, this.bits, this.bits);
  }
}
