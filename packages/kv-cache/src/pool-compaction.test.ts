import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryArena } from './arena.js';
import { KvCache } from './kv-cache.js';
import { fp16Values } from './random.test-utils.js';
import { newMemory, newPoolTestCache, poolTestCacheFields } from './memory.test-utils.js';

describe('MemoryArena free ranges', () => {
  it('merges released neighbours, serves any size from them and gives a trailing range back to the bump region', () => {
    const arena = new MemoryArena(newMemory());
    const a = arena.allocate(1000);
    const b = arena.allocate(1000);
    const c = arena.allocate(1000);
    const d = arena.allocate(16);
    arena.release(a, 1000);
    arena.release(b, 1000);
    expect(arena.freeRangeCount).toBe(1);
    expect(arena.freeBytes).toBe(2016);
    // A block larger than either released block fits the merged range.
    expect(arena.allocate(1500)).toBe(a);
    expect(arena.freeBytes).toBe(2016 - 1504);
    const top = arena.highWater;
    arena.release(d, 16);
    expect(arena.highWater).toBe(top - 16);
    arena.release(c, 1000);
    // c, d and the rest of a·b merge and reach the bump pointer: no holes left.
    expect(arena.freeRangeCount).toBe(0);
    expect(arena.highWater).toBe(a + 1504);
    expect(arena.liveBytes).toBe(1504);
    expect(arena.peakBytes).toBe(3 * 1008 + 16);
  });

  it('keeps live blocks disjoint and the byte counts consistent under random allocate / release', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 5000 }), fc.nat()), { maxLength: 80 }), (operations) => {
        const arena = new MemoryArena(newMemory(), 48);
        const live: { offset: number; size: number }[] = [];
        for (const [allocate, size, pick] of operations) {
          if (allocate || live.length === 0) {
            const offset = arena.allocate(size);
            expect(offset % 16).toBe(0);
            expect(offset).toBeGreaterThanOrEqual(48);
            for (const other of live) expect(offset + size <= other.offset || other.offset + other.size <= offset).toBe(true);
            live.push({ offset, size });
          } else {
            const [block] = live.splice(pick % live.length, 1);
            arena.release(block!.offset, block!.size);
          }
          const liveBytes = live.reduce((sum, block) => sum + Math.ceil(block.size / 16) * 16, 0);
          expect(arena.liveBytes).toBe(liveBytes);
          expect(arena.highWater - 48).toBe(liveBytes + arena.freeBytes);
          expect(arena.buffer.byteLength).toBeGreaterThanOrEqual(arena.highWater + 64);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('pool compaction', () => {
  it('shrinks pools after demotion so capacity follows the live slots, keeping every value and the accounting exact', () => {
    fc.assert(
      fc.property(
        fc.record({
          ...poolTestCacheFields,
          tokens: fc.integer({ min: 40, max: 400 }),
          keep: fc.integer({ min: 0, max: 10 }),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        (options) => {
          const { cache, arena } = newPoolTestCache(options);
          const data = fp16Values(options.tokens * 32, options.seed);
          cache.append(0, data, data, options.tokens, 8, 8);
          const keys = new Float32Array(options.tokens * 32);
          const values = new Float32Array(options.tokens * 32);
          const groups = options.tokens * cache.groupsPerToken;
          // Demote all but every `keep`-th group to 2 bits; those that stay at 8 must read back unchanged.
          const before = new Float32Array(options.tokens * 32);
          cache.readLayer(0, before, new Float32Array(options.tokens * 32));
          for (let group = 0; group < groups; group += 1) {
            if (options.keep > 0 && group % options.keep === 0) continue;
            cache.setGroupBits('keys', 0, group, 2);
            cache.setGroupBits('values', 0, group, 2);
          }
          cache.readLayer(0, keys, values);
          const length = cache.groupLength;
          for (let group = 0; group < groups; group += 1) {
            if (cache.store('keys', 0).bitsOf(group) !== 8) continue;
            expect(keys.subarray(group * length, (group + 1) * length)).toEqual(before.subarray(group * length, (group + 1) * length));
          }
          const accounting = cache.accounting();
          expect(accounting.totalBytes).toBe(cache.heldBytes());
          for (const kind of ['keys', 'values'] as const) {
            for (const pool of cache.store(kind, 0).pools) {
              if (pool === undefined) continue;
              // Capacity within a quarter plus 16 slots of the live slots (growth) or the shrink bound.
              expect(pool.capacity).toBeLessThanOrEqual(Math.max(16, Math.ceil(pool.liveSlots / 0.7) + 16));
            }
          }
          if (arena !== null) {
            const pooled = arena.liveBytes;
            cache.dispose();
            expect(arena.liveBytes).toBeLessThan(pooled);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('brings slack to a small share of the live bytes after a QAQ-like demotion (8 → 2 bits)', () => {
    const cache = new KvCache({ layers: 1, kvHeads: 3, headDim: 64, groupLayout: 'token-layer', outlierFraction: 0.02, initialCapacityTokens: 16 });
    const data = fp16Values(2048 * 192, 5);
    cache.append(0, data, data, 2048, 8, 8);
    const slackBefore = cache.accounting().slackBytes;
    for (let group = 0; group < 2048; group += 1) {
      cache.setGroupBits('keys', 0, group, 2);
      cache.setGroupBits('values', 0, group, 2);
    }
    const accounting = cache.accounting();
    const live = accounting.totalBytes - accounting.slackBytes - accounting.bookkeepingBytes - accounting.scratchBytes;
    expect(slackBefore).toBeGreaterThan(0);
    expect(cache.store('keys', 0).pools[8]!.capacity).toBe(16);
    expect(accounting.slackBytes / live).toBeLessThan(0.3);
  });
});
