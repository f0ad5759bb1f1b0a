import { AttentionAwarePolicy, CalibratedQueryNorms, LayerPlan } from '@qaq/policy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvCache } from './kv-cache.js';
import { fp16Values } from './random.test-utils.js';

type Step =
  | { kind: 'append'; layer: number; tokens: number; keyBits: number; valueBits: number; seed: number }
  | { kind: 'set'; layer: number; group: number; bits: number; keys: boolean }
  | { kind: 'evict'; layer: number; count: number };

const bitsArbitrary = fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 16);

describe('cache accounting', () => {
  it('equals the bytes really held after random append / re-quantize / evict sequences', () => {
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        kind: fc.constant('append' as const),
        layer: fc.integer({ min: 0, max: 1 }),
        tokens: fc.integer({ min: 1, max: 6 }),
        keyBits: bitsArbitrary,
        valueBits: bitsArbitrary,
        seed: fc.integer({ min: 1, max: 1 << 30 }),
      }),
      fc.record({
        kind: fc.constant('set' as const),
        layer: fc.integer({ min: 0, max: 1 }),
        group: fc.nat(40),
        bits: bitsArbitrary,
        keys: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('evict' as const), layer: fc.integer({ min: 0, max: 1 }), count: fc.nat(4) }),
    );
    fc.assert(
      fc.property(
        fc.record({
          groupLayout: fc.constantFrom<'token-layer-head' | 'token-layer'>('token-layer-head', 'token-layer'),
          outlierFraction: fc.constantFrom(0, 0.1),
          recentWindow: fc.integer({ min: 0, max: 3 }),
          promotionTier: fc.boolean(),
          initialCapacityTokens: fc.integer({ min: 1, max: 4 }),
        }),
        fc.array(step, { maxLength: 30 }),
        (options, steps) => {
          const cache = new KvCache({ layers: 2, kvHeads: 2, headDim: 8, slidingWindow: [null, 7], ...options });
          for (const action of steps) {
            if (action.kind === 'append') {
              const data = fp16Values(action.tokens * 16, action.seed);
              cache.append(action.layer, data, data, action.tokens, action.keyBits, action.valueBits);
            } else if (action.kind === 'evict') {
              cache.evictOldest(action.layer, Math.min(action.count, cache.tokenCount(action.layer)));
            } else {
              const quantized = cache.recentStart(action.layer) * cache.groupsPerToken;
              if (quantized === 0) continue;
              const group = action.group % quantized;
              const kind = action.keys ? 'keys' : 'values';
              const current = cache.store(kind, action.layer).bitsOf(group);
              if (action.bits > current && !options.promotionTier) continue;
              cache.setGroupBits(kind, action.layer, group, action.bits);
            }
            const accounting = cache.accounting();
            expect(accounting.totalBytes).toBe(cache.heldBytes());
          }
          const accounting = cache.accounting();
          const live = 2 * (cache.tokenCount(0) + cache.tokenCount(1)) * 16;
          expect(accounting.liveElements).toBe(live);
          if (live > 0) expect(accounting.compressionRatio).toBeCloseTo(16 / accounting.bitsPerElement, 10);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('matches a hand count for a 2-bit layer with 1% outliers (D = 128)', () => {
    const cache = new KvCache({ layers: 1, kvHeads: 1, headDim: 128, outlierFraction: 0.01, initialCapacityTokens: 16 });
    const data = fp16Values(16 * 128, 9);
    cache.append(0, data, data, 16, 2, 2);
    const accounting = cache.accounting();
    // Per group: 32 bytes of codes, 2 + 2 parameters, half a byte of tag, 2 slot index, 2 outliers · (2 value + 1 position).
    expect(accounting.codeBytes).toBe(2 * 16 * 32);
    expect(accounting.outlierValueBytes).toBe(2 * 16 * 4);
    expect(accounting.outlierPositionBytes).toBe(2 * 16 * 2);
    expect(accounting.bitWidthTagBytes).toBe(2 * 16 * 0.5);
    expect(accounting.bitsPerElement).toBeCloseTo(((32 + 4 + 0.5 + 2 + 6) * 8) / 128, 12);
    expect(accounting.compressionRatio).toBeCloseTo(16 / (((32 + 4 + 0.5 + 2 + 6) * 8) / 128), 12);
  });

  it('widens slot indices past 65536 slots and still accounts exactly', () => {
    const cache = new KvCache({ layers: 1, kvHeads: 1, headDim: 2, initialCapacityTokens: 1 });
    const tokens = 70_000;
    const data = new Float32Array(tokens * 2);
    for (let index = 0; index < data.length; index += 1) data[index] = (index % 97) - 48;
    cache.append(0, data, data, tokens, 16, 16);
    const store = cache.store('keys', 0);
    expect(store.slots).toBeInstanceOf(Uint32Array);
    const keys = new Float32Array(2);
    cache.readToken(0, tokens - 1, keys, new Float32Array(2));
    expect(Array.from(keys)).toEqual([data[2 * tokens - 2], data[2 * tokens - 1]]);
    const accounting = cache.accounting();
    expect(accounting.slotIndexBytes).toBe(2 * tokens * 4);
    expect(accounting.totalBytes).toBe(cache.heldBytes());
  });
});

describe('policy → plan → cache', () => {
  it('applies plans so every group ends at the planned bits, with accounting intact', () => {
    const kvHeads = 2;
    const headDim = 16;
    const cache = new KvCache({ layers: 1, kvHeads, headDim, outlierFraction: 0.05, recentWindow: 1 });
    const norms = new CalibratedQueryNorms({
      format: 'qaq-query-norms',
      version: 1,
      quantile: 0.9,
      scoreScale: 0.25,
      layers: 1,
      kvHeads,
      values: [[4, 9]],
    });
    const policy = new AttentionAwarePolicy(
      { layers: 1, kvHeads, scoreScale: 0.25, sigmaScoreMax: 0.05, sigmaOutputMax: 0.05, minBits: 1, maxBits: 8, window: 2 },
      norms,
    );
    const plan = new LayerPlan(4);
    let seed = 11;
    for (let step = 0; step < 12; step += 1) {
      const data = fp16Values(kvHeads * headDim, (seed += 1));
      cache.append(0, data, data, 1, 8, 8);
      const tokenCount = cache.tokenCount(0);
      const probabilities = new Float32Array(kvHeads * tokenCount);
      for (let index = 0; index < probabilities.length; index += 1) probabilities[index] = Math.fround(((index * 7919) % 13) / 26);
      policy.observe(0, probabilities, tokenCount);
      policy.decide(0, cache.view(0), plan);
      cache.applyPlan(0, plan);
      for (let group = 0; group < tokenCount * kvHeads; group += 1) {
        expect(cache.view(0).keyBits(group)).toBe(plan.keys.targetBits[group]);
        expect(cache.view(0).valueBits(group)).toBe(plan.values.targetBits[group]);
      }
      expect(cache.accounting().totalBytes).toBe(cache.heldBytes());
    }
    expect(cache.accounting().bitsPerElement).toBeLessThan(16);
    // A stale plan (made for fewer tokens) is refused.
    cache.append(0, fp16Values(kvHeads * headDim, 99), fp16Values(kvHeads * headDim, 98), 1, 8, 8);
    expect(() => cache.applyPlan(0, plan)).toThrow(/another layer shape/);
  });
});
