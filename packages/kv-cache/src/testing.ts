// Random compact caches for tests, benchmarks and browser checks of the attention kernels (exported as
// '@qaq/kv-cache/testing'): one deterministic generator, so Node and browser runs see the same caches.
import type { KvCacheConfig } from './config.js';
import { KvCache } from './kv-cache.js';

/** Deterministic uniform (0, 1) generator (an LCG: the same numbers in Node and in any browser). */
export function uniformGenerator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
}

/** Normal values (scaled and shifted), with a rare ×8 outlier so the caches hold real outliers. */
export function normalValues(count: number, uniform: () => number, scale: number, shift = 0): Float32Array {
  const out = new Float32Array(count);
  for (let index = 0; index < count; index += 1) {
    const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    out[index] = (normal * (uniform() < 0.01 ? 8 : 1) + shift) * scale;
  }
  return out;
}

/** Every pool width of the compact cache: 1..8 packed, 16 = the fp16 recent window. */
export const ALL_WIDTHS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 16];

/**
 * Layer 0 of a fresh compact cache (made by `make`, default `new KvCache`) holding `tokenCount` tokens appended in
 * random chunks at random widths (keys and values drawn separately), then a random third of the quantized groups
 * demoted to a lower width: every pool, outliers, freed and reused slots, and the recent window — what a running
 * policy leaves behind.
 */
export function randomCompactCache(
  config: KvCacheConfig,
  tokenCount: number,
  seed: number,
  widths: readonly number[] = ALL_WIDTHS,
  make: (config: KvCacheConfig) => KvCache = (cacheConfig) => new KvCache(cacheConfig),
): KvCache {
  const uniform = uniformGenerator(seed);
  const cache = make(config);
  const tokenLength = config.kvHeads * config.headDim;
  const pick = (): number => widths[Math.floor(uniform() * widths.length)] as number;
  let appended = 0;
  while (appended < tokenCount) {
    const chunk = Math.min(tokenCount - appended, 1 + Math.floor(uniform() * 24));
    cache.append(0, normalValues(chunk * tokenLength, uniform, 1.5, 0.3), normalValues(chunk * tokenLength, uniform, 1, -0.2), chunk, pick(), pick());
    appended += chunk;
  }
  const quantized = cache.recentStart(0) * cache.groupsPerToken;
  for (const kind of ['keys', 'values'] as const) {
    const store = cache.store(kind, 0);
    for (let group = 0; group < quantized; group += 1) {
      if (uniform() > 0.33) continue;
      const current = store.bitsOf(group);
      const lower = widths.filter((width) => width < current);
      if (lower.length > 0) cache.setGroupBits(kind, 0, group, lower[Math.floor(uniform() * lower.length)] as number);
    }
  }
  return cache;
}
