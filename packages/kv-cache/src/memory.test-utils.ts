import fc from 'fast-check';
import { MemoryArena, type GrowableMemory } from './arena.js';
import type { GroupLayout } from '@qaq/policy';
import { KvCache } from './kv-cache.js';

/** A one-page WebAssembly memory for arena tests (the package is compiled without DOM types, hence the cast). */
export function newMemory(): GrowableMemory {
  const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number }) => GrowableMemory } })
    .WebAssembly;
  return new wasm.Memory({ initial: 1 });
}

/** Settings the pool tests draw: the layout, outliers, the promotion tier, and whether the pools live in an arena. */
export interface PoolTestCacheOptions {
  readonly groupLayout: GroupLayout;
  readonly outlierFraction: number;
  readonly promotionTier: boolean;
  readonly arena: boolean;
}

/** fast-check fields for PoolTestCacheOptions (spread into a test's fc.record). */
export const poolTestCacheFields = {
  groupLayout: fc.constantFrom<GroupLayout>('token-layer-head', 'token-layer'),
  outlierFraction: fc.constantFrom(0, 0.05),
  promotionTier: fc.boolean(),
  arena: fc.boolean(),
};

/**
 * One layer, 2 KV heads of 16 (32 elements per token and kind), room for 4 tokens at first so the pools must grow;
 * with the arena it lives in, if any.
 */
export function newPoolTestCache(options: PoolTestCacheOptions): { cache: KvCache; arena: MemoryArena | null } {
  const arena = options.arena ? new MemoryArena(newMemory()) : null;
  const cache = new KvCache(
    {
      layers: 1,
      kvHeads: 2,
      headDim: 16,
      groupLayout: options.groupLayout,
      outlierFraction: options.outlierFraction,
      promotionTier: options.promotionTier,
      initialCapacityTokens: 4,
    },
    { arena },
  );
  return { cache, arena };
}
