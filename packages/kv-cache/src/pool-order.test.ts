import { LayerPlan } from '@qaq/policy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GroupStore } from './group-store.js';
import { KvCache } from './kv-cache.js';
import { fp16Values } from './random.test-utils.js';
import { newPoolTestCache, poolTestCacheFields } from './memory.test-utils.js';

/** Whether each width's groups sit at that pool's slots 0, 1, 2, … in group order. */
function inGroupOrder(store: GroupStore): boolean {
  const next = new Map<number, number>();
  for (let group = 0; group < store.groupCount; group += 1) {
    const bits = store.bitsOf(group);
    const expected = next.get(bits) ?? 0;
    if (store.slots[group] !== expected) return false;
    next.set(bits, expected + 1);
  }
  return true;
}

const WIDTHS = [2, 3, 4, 5, 8] as const;

describe('pools in group order (GroupStore.orderPools)', () => {
  it('puts scattered slots in group order without changing a value, the accounting or later appends and demotions', () => {
    fc.assert(
      fc.property(
        fc.record({
          ...poolTestCacheFields,
          appends: fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.constantFrom(...WIDTHS), fc.constantFrom(...WIDTHS)), { minLength: 1, maxLength: 6 }),
          demotions: fc.array(fc.tuple(fc.nat(), fc.constantFrom(2, 3, 4)), { maxLength: 120 }),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        (options) => {
          const { cache } = newPoolTestCache(options);
          let seed = options.seed;
          for (const [tokens, keyBits, valueBits] of options.appends) {
            const data = fp16Values(tokens * 32, seed++);
            cache.append(0, data, data, tokens, keyBits, valueBits);
          }
          const tokens = cache.tokenCount(0);
          const groups = tokens * cache.groupsPerToken;
          // Demotions in random order scatter the narrower pools' slots (setGroupBits does not reorder).
          for (const [pick, bits] of options.demotions) {
            const group = pick % groups;
            for (const kind of ['keys', 'values'] as const) {
              if ((cache.store(kind, 0).bitsOf(group)) > bits) cache.setGroupBits(kind, 0, group, bits);
            }
          }
          const keysBefore = new Float32Array(tokens * 32);
          const valuesBefore = new Float32Array(tokens * 32);
          cache.readLayer(0, keysBefore, valuesBefore);
          const bitsBefore = cache.store('keys', 0).tags().slice(0, groups);
          for (const kind of ['keys', 'values'] as const) {
            const store = cache.store(kind, 0);
            const wasOrdered = inGroupOrder(store);
            const rewritten = store.orderPools();
            expect(rewritten === 0).toBe(wasOrdered);
            expect(inGroupOrder(store)).toBe(true);
            expect(store.orderPools()).toBe(0);
            for (const pool of store.pools) if (pool !== undefined) expect(pool.liveSlots).toBeLessThanOrEqual(pool.capacity);
          }
          const keys = new Float32Array(tokens * 32);
          const values = new Float32Array(tokens * 32);
          cache.readLayer(0, keys, values);
          expect(keys).toEqual(keysBefore);
          expect(values).toEqual(valuesBefore);
          expect(cache.store('keys', 0).tags().slice(0, groups)).toEqual(bitsBefore);
          expect(cache.accounting().totalBytes).toBe(cache.heldBytes());
          // The freed slots are handed out again, and nothing live is overwritten: the old tokens read as before and
          // the new ones as a fresh cache's (one new group demoted in both).
          // A demotion of an old group frees a slot low in its pool, so the next allocations search from there.
          for (let group = 0; group < groups; group += 1) {
            if ((cache.store('values', 0).bitsOf(group)) <= 2) continue;
            cache.setGroupBits('values', 0, group, 2);
            break;
          }
          cache.readLayer(0, keysBefore, valuesBefore);
          const more = fp16Values(8 * 32, seed);
          cache.append(0, more, more, 8, 8, 8);
          cache.setGroupBits('keys', 0, groups, 2);
          const keysAfter = new Float32Array((tokens + 8) * 32);
          const valuesAfter = new Float32Array((tokens + 8) * 32);
          cache.readLayer(0, keysAfter, valuesAfter);
          expect(keysAfter.subarray(0, tokens * 32)).toEqual(keysBefore);
          expect(valuesAfter.subarray(0, tokens * 32)).toEqual(valuesBefore);
          const fresh = new KvCache({ layers: 1, kvHeads: 2, headDim: 16, groupLayout: options.groupLayout, outlierFraction: options.outlierFraction, initialCapacityTokens: 4 });
          fresh.append(0, more, more, 8, 8, 8);
          fresh.setGroupBits('keys', 0, 0, 2);
          const expectedKeys = new Float32Array(8 * 32);
          const expectedValues = new Float32Array(8 * 32);
          fresh.readLayer(0, expectedKeys, expectedValues);
          expect(keysAfter.subarray(tokens * 32)).toEqual(expectedKeys);
          expect(valuesAfter.subarray(tokens * 32)).toEqual(expectedValues);
          cache.dispose();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('leaves every pool in token order after a plan, whatever order the demotions came in', () => {
    const cache = new KvCache({ layers: 1, kvHeads: 3, headDim: 64, groupLayout: 'token-layer', outlierFraction: 0, initialCapacityTokens: 16 });
    const data = fp16Values(512 * 192, 7);
    cache.append(0, data, data, 512, 8, 8);
    // Two rounds: the second demotes 3-bit groups to 2 bits, freeing 3-bit slots that later demotions would reuse.
    for (const [from, to] of [[8, 3], [3, 2]] as const) {
      const plan = new LayerPlan(512);
      plan.groupCount = 512;
      plan.groupsPerToken = 1;
      plan.keys.reset(512);
      plan.values.reset(512);
      for (let token = 511; token >= 0; token -= 1) {
        if (token % 3 === 0 || cache.store('keys', 0).bitsOf(token) !== from) continue;
        plan.keys.demoteGroups[plan.keys.demoteCount] = token;
        plan.keys.demoteBits[plan.keys.demoteCount] = to;
        plan.keys.demoteCount += 1;
      }
      cache.applyPlan(0, plan);
      expect(inGroupOrder(cache.store('keys', 0))).toBe(true);
    }
    expect(cache.store('keys', 0).pools[2]!.liveSlots).toBeGreaterThan(300);
  });
});
