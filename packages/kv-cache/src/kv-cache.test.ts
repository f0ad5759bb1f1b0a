import { isQaqError } from '@qaq/errors';
import { outlierCountPerSide } from '@qaq/outliers';
import { float16BitsToFloat32 } from '@qaq/quantization';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LayerPlan } from '@qaq/policy';
import { KvCache, type KvKind } from './kv-cache.js';
import { UniformKvCache } from './uniform-cache.js';
import { fp16Values } from './random.test-utils.js';

function expectCode(call: () => unknown, code: string): void {
  try {
    call();
    expect.unreachable(`should throw ${code}`);
  } catch (error) {
    expect(isQaqError(error, code), String(error)).toBe(true);
  }
}

function snapshot(cache: KvCache): unknown {
  const layers: unknown[] = [];
  for (let layer = 0; layer < cache.config.layers; layer += 1) {
    const count = cache.tokenCount(layer);
    const keys = new Float32Array(count * cache.tokenLength);
    const values = new Float32Array(count * cache.tokenLength);
    cache.readLayer(layer, keys, values);
    layers.push({
      keys: Array.from(keys),
      values: Array.from(values),
      keyBits: Array.from(cache.store('keys', layer).tags().subarray(0, count * cache.groupsPerToken)),
      valueBits: Array.from(cache.store('values', layer).tags().subarray(0, count * cache.groupsPerToken)),
    });
  }
  return { layers, accounting: cache.accounting() };
}

/** Per element: |x − x̂| ≤ step/2 for quantized elements, exact for outliers and fp16 groups (inputs are fp16-exact). */
function expectWithinBound(cache: KvCache, kind: KvKind, layer: number, original: Float32Array, slack = 0): void {
  const store = cache.store(kind, layer);
  const out = new Float32Array(cache.groupLength);
  for (let group = 0; group < store.groupCount; group += 1) {
    store.decode(group, out, 0);
    const bits = store.bitsOf(group);
    const pool = store.pool(bits);
    const step = bits === 16 ? 0 : float16BitsToFloat32(pool.parameters[(store.slots[group] as number) * 2 + 1] as number);
    for (let element = 0; element < cache.groupLength; element += 1) {
      const error = Math.abs((out[element] as number) - (original[group * cache.groupLength + element] as number));
      expect(error).toBeLessThanOrEqual(step / 2 + slack + 1e-6 * Math.abs(original[group * cache.groupLength + element] as number));
    }
  }
}

describe('KvCache', () => {
  it('stores 16-bit groups exactly and reports their accounting', () => {
    const cache = new KvCache({ layers: 2, kvHeads: 2, headDim: 8 });
    const keys = fp16Values(3 * 16, 1);
    const values = fp16Values(3 * 16, 2);
    cache.append(1, keys, values, 3, 16, 16);
    const keysOut = new Float32Array(48);
    const valuesOut = new Float32Array(48);
    cache.readLayer(1, keysOut, valuesOut);
    expect(keysOut).toEqual(keys);
    expect(valuesOut).toEqual(values);
    expect(cache.tokenCount(0)).toBe(0);
    const accounting = cache.accounting();
    expect(accounting.codeBytes).toBe(2 * 48 * 2);
    expect(accounting.liveElements).toBe(96);
    expect(accounting.totalBytes).toBe(cache.heldBytes());
  });

  it('reconstructs every element within its bit width bound, outliers exactly', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8),
        fc.constantFrom<'token-layer-head' | 'token-layer'>('token-layer-head', 'token-layer'),
        fc.constantFrom(0, 0.05),
        fc.integer({ min: 1, max: 1000 }),
        (bits, groupLayout, outlierFraction, seed) => {
          const cache = new KvCache({ layers: 1, kvHeads: 2, headDim: 32, groupLayout, outlierFraction });
          const keys = fp16Values(5 * 64, seed);
          const values = fp16Values(5 * 64, seed + 1);
          cache.append(0, keys, values, 5, bits, bits);
          expectWithinBound(cache, 'keys', 0, keys);
          expectWithinBound(cache, 'values', 0, values);
          // The view's range covers the group without outliers: error ≤ range / 2^(bits+1).
          const view = cache.view(0);
          const groups = 5 * cache.groupsPerToken;
          const bulkBits = new Uint8Array(groups);
          const bulkRanges = new Float64Array(groups);
          view.readGroups('values', bulkBits, bulkRanges);
          const perSide = outlierCountPerSide(cache.groupLength, outlierFraction);
          for (let group = 0; group < groups; group += 1) {
            expect(view.keyBits(group)).toBe(bits);
            // The stored range is tight: the group's range without its outliers, up to fp16 rounding.
            const sorted = Array.from(keys.subarray(group * cache.groupLength, (group + 1) * cache.groupLength)).sort((a, b) => a - b);
            const trueRange = (sorted[sorted.length - 1 - perSide] as number) - (sorted[perSide] as number);
            expect(view.keyRange(group)).toBeGreaterThanOrEqual(trueRange);
            expect(view.keyRange(group)).toBeLessThanOrEqual(trueRange * (1 + 2 ** -9) + 2 ** -10 * (1 + Math.abs(sorted[perSide] as number)));
            expect(bulkBits[group]).toBe(view.valueBits(group));
            expect(bulkRanges[group]).toBe(view.valueRange(group));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('demotes without a tier on the nested grid (no compounded error), and promotes from the tier', () => {
    const keys = fp16Values(4 * 64, 7);
    const values = fp16Values(4 * 64, 8);
    const oneWay = new KvCache({ layers: 1, kvHeads: 1, headDim: 64, outlierFraction: 0.02 });
    oneWay.append(0, keys, values, 4, 8, 8);
    const store = oneWay.store('values', 0);
    const eightBitStep = float16BitsToFloat32(store.pool(8).parameters[(store.slots[1] as number) * 2 + 1] as number);
    oneWay.setGroupBits('values', 0, 1, 5);
    oneWay.setGroupBits('values', 0, 1, 3);
    expect(store.bitsOf(1)).toBe(3);
    expect(store.pool(8).liveSlots).toBe(3);
    expect(store.pool(3).liveSlots).toBe(1);
    expect(float16BitsToFloat32(store.pool(3).parameters[(store.slots[1] as number) * 2 + 1] as number)).toBe(32 * eightBitStep);
    // Within step₃/2 of the original: the two demotions added nothing to the error of quantizing at 3 bits.
    expectWithinBound(oneWay, 'values', 0, values);
    expectCode(() => oneWay.setGroupBits('values', 0, 1, 8), 'promotion-unavailable');

    const tiered = new KvCache({ layers: 1, kvHeads: 1, headDim: 64, outlierFraction: 0.02, promotionTier: true });
    tiered.append(0, keys, values, 4, 8, 8);
    tiered.setGroupBits('keys', 0, 2, 1);
    tiered.setGroupBits('keys', 0, 2, 8);
    expectWithinBound(tiered, 'keys', 0, keys);
    const accounting = tiered.accounting();
    expect(accounting.promotionTierBytes).toBe(2 * 4 * (64 * 2 + 2));
    expect(accounting.totalBytes).toBe(tiered.heldBytes());
  });

  it('a demotion ladder without a tier equals quantizing the original values on the final nested grid', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.constantFrom(0, 0.05),
        (startBits, drops, seed, outlierFraction) => {
          const headDim = 32;
          const tokens = 3;
          const data = fp16Values(tokens * headDim, seed);
          const cache = new KvCache({ layers: 1, kvHeads: 1, headDim, outlierFraction });
          cache.append(0, data, data, tokens, startBits, startBits);
          const store = cache.store('keys', 0);
          const minimum: number[] = [];
          const step: number[] = [];
          for (let group = 0; group < tokens; group += 1) {
            const parameters = store.pool(startBits).parameters;
            minimum.push(float16BitsToFloat32(parameters[(store.slots[group] as number) * 2] as number));
            step.push(float16BitsToFloat32(parameters[(store.slots[group] as number) * 2 + 1] as number));
          }
          let bits = startBits;
          for (const drop of drops) {
            if (bits - drop < 1) break;
            bits -= drop;
            for (let group = 0; group < tokens; group += 1) cache.setGroupBits('keys', 0, group, bits);
          }
          const scale = 2 ** (startBits - bits);
          const out = new Float32Array(headDim);
          for (let group = 0; group < tokens; group += 1) {
            expect(store.bitsOf(group)).toBe(bits);
            store.decode(group, out, 0);
            const gridStep = (step[group] as number) * scale;
            for (let element = 0; element < headDim; element += 1) {
              const original = data[group * headDim + element] as number;
              const code = Math.min(Math.max(Math.floor((original - (minimum[group] as number)) / gridStep), 0), 2 ** bits - 1);
              const onGrid = (minimum[group] as number) + (code + 0.5) * gridStep;
              if (outlierFraction > 0 && out[element] === original) continue; // an outlier, kept exactly
              expect(out[element]).toBe(Math.fround(onGrid));
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('with clippedRangeMaxBits, demotions from a fine grid clip by least squares and coarse ones stay nested', () => {
    // Bell-shaped groups (sums of uniforms), as keys and values are after the Hadamard rotation.
    const headDim = 64;
    const tokens = 64;
    const noise = fp16Values(tokens * headDim * 4, 11);
    const data = new Float32Array(tokens * headDim);
    for (let index = 0; index < data.length; index += 1) {
      const sum = (noise[4 * index] as number) + (noise[4 * index + 1] as number) + (noise[4 * index + 2] as number) + (noise[4 * index + 3] as number);
      data[index] = Math.fround(sum / 4);
    }
    const squaredError = (cache: KvCache): number => {
      const store = cache.store('values', 0);
      const out = new Float32Array(headDim);
      let sum = 0;
      for (let group = 0; group < tokens; group += 1) {
        store.decode(group, out, 0);
        for (let element = 0; element < headDim; element += 1) sum += ((out[element] as number) - (data[group * headDim + element] as number)) ** 2;
      }
      return sum;
    };
    const minMax = new KvCache({ layers: 1, kvHeads: 1, headDim });
    const clipped = new KvCache({ layers: 1, kvHeads: 1, headDim, clippedRangeMaxBits: 2 });
    for (const cache of [minMax, clipped]) {
      cache.append(0, data, data, tokens, 8, 8);
      for (let group = 0; group < tokens; group += 1) cache.setGroupBits('values', 0, group, 2);
    }
    // 8 → 2 re-quantizes with a clipped range: less squared error than the nested min–max grid.
    expect(squaredError(clipped)).toBeLessThan(0.9 * squaredError(minMax));
    const clippedStore = clipped.store('values', 0);
    const minMaxStore = minMax.store('values', 0);
    const stepOf = (store: typeof clippedStore, bits: number, group: number): number =>
      float16BitsToFloat32(store.pool(bits).parameters[(store.slots[group] as number) * 2 + 1] as number);
    expect(stepOf(clippedStore, 2, 0)).toBeLessThan(stepOf(minMaxStore, 2, 0));
    // From a coarse grid (3 bits) the demotion stays nested: same minimum, twice the step.
    const ladder = new KvCache({ layers: 1, kvHeads: 1, headDim, clippedRangeMaxBits: 2 });
    ladder.append(0, data, data, tokens, 8, 8);
    const ladderStore = ladder.store('values', 0);
    ladder.setGroupBits('values', 0, 5, 3);
    const minimumOf = (bits: number): number => float16BitsToFloat32(ladderStore.pool(bits).parameters[(ladderStore.slots[5] as number) * 2] as number);
    const threeBitMinimum = minimumOf(3);
    const threeBitStep = stepOf(ladderStore, 3, 5);
    ladder.setGroupBits('values', 0, 5, 2);
    expect(minimumOf(2)).toBe(threeBitMinimum);
    expect(stepOf(ladderStore, 2, 5)).toBe(2 * threeBitStep);
    // Keys (not demoted) keep their 8-bit min–max groups; the accounting is unchanged by the choice of range.
    expect(clipped.accounting().totalBytes).toBe(minMax.accounting().totalBytes);
    expectCode(() => new KvCache({ layers: 1, kvHeads: 1, headDim, clippedRangeMaxBits: 9 }), 'invalid-cache-config');
  });

  it('keeps the newest R tokens at fp16 and quantizes them as they leave the window', () => {
    const cache = new KvCache({ layers: 1, kvHeads: 1, headDim: 16, recentWindow: 2 });
    const data = fp16Values(5 * 16, 3);
    cache.append(0, data.subarray(0, 48), data.subarray(0, 48), 3, 2, 4);
    const keys = cache.store('keys', 0);
    expect(Array.from(keys.tags().subarray(0, 3))).toEqual([2, 16, 16]);
    cache.append(0, data.subarray(48, 64), data.subarray(48, 64), 1, 2, 4);
    expect(Array.from(keys.tags().subarray(0, 4))).toEqual([2, 2, 16, 16]);
    expect(Array.from(cache.store('values', 0).tags().subarray(0, 4))).toEqual([4, 4, 16, 16]);
    expect(cache.view(0).recentTokens).toBe(2);
    expectCode(() => cache.setGroupBits('keys', 0, 3, 1), 'invalid-group');
    const accounting = cache.accounting();
    expect(accounting.recentWindowBytes).toBe(2 * 2 * (32 + 4));
    expect(accounting.totalBytes).toBe(cache.heldBytes());
  });

  it('holds the recent window at recentWindowBits and demotes leaving tokens on the nested grid', () => {
    const headDim = 16;
    const cache = new KvCache({ layers: 1, kvHeads: 1, headDim, recentWindow: 2, recentWindowBits: 8 });
    const data = fp16Values(6 * headDim, 5);
    cache.append(0, data.subarray(0, 3 * headDim), data.subarray(0, 3 * headDim), 3, 3, 2);
    const keys = cache.store('keys', 0);
    expect(Array.from(keys.tags().subarray(0, 3))).toEqual([3, 8, 8]);
    const eightBitStep = float16BitsToFloat32(keys.pool(8).parameters[(keys.slots[1] as number) * 2 + 1] as number);
    const eightBitMinimum = float16BitsToFloat32(keys.pool(8).parameters[(keys.slots[1] as number) * 2] as number);
    // A token bound for fp16 (a sink) is held at fp16 in the window too.
    cache.append(0, data.subarray(3 * headDim, 4 * headDim), data.subarray(3 * headDim, 4 * headDim), 1, 16, 16);
    expect(Array.from(keys.tags().subarray(0, 4))).toEqual([3, 3, 8, 16]);
    // Token 1 left the window: its 3-bit group is the 8-bit grid's nested coarsening (same minimum, 32 × the step).
    expect(float16BitsToFloat32(keys.pool(3).parameters[(keys.slots[1] as number) * 2] as number)).toBe(eightBitMinimum);
    expect(float16BitsToFloat32(keys.pool(3).parameters[(keys.slots[1] as number) * 2 + 1] as number)).toBe(32 * eightBitStep);
    expectWithinBound(cache, 'keys', 0, data.subarray(0, 4 * headDim));
    cache.append(0, data.subarray(4 * headDim), data.subarray(4 * headDim), 2, 3, 2);
    expect(Array.from(keys.tags().subarray(0, 6))).toEqual([3, 3, 3, 16, 8, 8]);
    expect(Array.from(cache.store('values', 0).tags().subarray(0, 6))).toEqual([2, 2, 2, 16, 8, 8]);
    const accounting = cache.accounting();
    expect(accounting.recentWindowBytes).toBe(2 * 2 * (headDim + 4));
    expect(accounting.totalBytes).toBe(cache.heldBytes());
    expectCode(() => new KvCache({ layers: 1, kvHeads: 1, headDim, recentWindow: 2, recentWindowBits: 12 }), 'invalid-cache-config');
  });

  it('evicts the oldest tokens on sliding-window layers', () => {
    const cache = new KvCache({ layers: 2, kvHeads: 1, headDim: 4, slidingWindow: [3, null] });
    const data = fp16Values(5 * 4, 4);
    expect(cache.append(0, data, data, 5, 16, 16)).toBe(2);
    expect(cache.append(1, data, data, 5, 16, 16)).toBe(0);
    const out = new Float32Array(12);
    cache.readLayer(0, out, new Float32Array(12));
    expect(out).toEqual(data.subarray(8));
    cache.evictOldest(1, 4);
    expect(cache.tokenCount(1)).toBe(1);
    expect(cache.accounting().totalBytes).toBe(cache.heldBytes());
  });

  it('rejects bad input with typed errors and stays unchanged', () => {
    const cache = new KvCache({ layers: 1, kvHeads: 2, headDim: 4, outlierFraction: 0.25 });
    const good = fp16Values(16, 5);
    cache.append(0, good, good, 2, 4, 4);
    const before = JSON.stringify(snapshot(cache));
    const withNaN = good.slice();
    withNaN[15] = Number.NaN;
    const huge = good.slice();
    huge[3] = 70000;
    expectCode(() => cache.append(0, withNaN, good, 2, 4, 4), 'non-finite-input');
    expectCode(() => cache.append(0, good, huge, 2, 4, 4), 'non-finite-input');
    expectCode(() => cache.append(0, good, good.subarray(1), 2, 4, 4), 'shape-mismatch');
    expectCode(() => cache.append(0, good, good, 3, 4, 4), 'shape-mismatch');
    expectCode(() => cache.append(0, good, good, 2, 9, 4), 'invalid-bit-width');
    expectCode(() => cache.append(0, good, good, 2, 4, 0), 'invalid-bit-width');
    expectCode(() => cache.append(0, good, good, 2, 17, 4), 'invalid-bit-width');
    expectCode(() => cache.append(1, good, good, 2, 4, 4), 'invalid-layer');
    expectCode(() => cache.evictOldest(0, 3), 'invalid-eviction');
    expectCode(() => cache.readToken(0, 2, new Float32Array(8), new Float32Array(8)), 'invalid-token');
    expectCode(() => cache.readLayer(0, new Float32Array(15), new Float32Array(16)), 'shape-mismatch');
    expect(JSON.stringify(snapshot(cache))).toBe(before);
    for (const config of [
      { layers: 0, kvHeads: 1, headDim: 4 },
      { layers: 1, kvHeads: 1, headDim: 4, outlierFraction: 0.5 },
      { layers: 1, kvHeads: 1, headDim: 4, recentWindow: -1 },
      { layers: 1, kvHeads: 1, headDim: 4, slidingWindow: [0] },
      { layers: 1, kvHeads: 1, headDim: 1.5 },
    ]) {
      expectCode(() => new KvCache(config), 'invalid-cache-config');
    }
  });

  it('refuses invalid plans as a whole and stays unchanged', () => {
    const cache = new KvCache({ layers: 1, kvHeads: 1, headDim: 8, recentWindow: 1 });
    const data = fp16Values(3 * 8, 12);
    cache.append(0, data, data, 3, 4, 4);
    const before = JSON.stringify(snapshot(cache));
    const plan = new LayerPlan(3);
    plan.groupCount = 3;
    plan.groupsPerToken = 1;
    // A valid first entry followed by an invalid one: nothing may be applied.
    plan.values.demoteGroups.set([0, 1]);
    plan.values.demoteBits.set([2, 5]);
    plan.values.demoteCount = 2;
    expectCode(() => cache.applyPlan(0, plan), 'invalid-plan');
    plan.values.demoteBits.set([2, 9]);
    expectCode(() => cache.applyPlan(0, plan), 'invalid-bit-width');
    plan.values.demoteGroups.set([0, 2]);
    plan.values.demoteBits.set([2, 2]);
    expectCode(() => cache.applyPlan(0, plan), 'invalid-plan');
    plan.values.demoteCount = 1;
    plan.keys.promoteGroups[0] = 0;
    plan.keys.promoteBits[0] = 8;
    plan.keys.promoteCount = 1;
    expectCode(() => cache.applyPlan(0, plan), 'promotion-unavailable');
    plan.groupCount = 2;
    expectCode(() => cache.applyPlan(0, plan), 'plan-mismatch');
    expect(JSON.stringify(snapshot(cache))).toBe(before);
    plan.groupCount = 3;
    plan.keys.promoteCount = 0;
    cache.applyPlan(0, plan);
    expect(cache.view(0).valueBits(0)).toBe(2);
  });

  it('uniform baseline: the same cache at fixed bits', () => {
    const uniform = new UniformKvCache({ layers: 1, kvHeads: 2, headDim: 64, outlierFraction: 0.01 }, 2);
    const data = fp16Values(10 * 128, 13);
    uniform.appendUniform(0, data, data, 10);
    expect(Array.from(uniform.store('keys', 0).tags().subarray(0, 20)).every((bits) => bits === 2)).toBe(true);
    expectWithinBound(uniform, 'keys', 0, data);
    expectCode(() => new UniformKvCache({ layers: 1, kvHeads: 1, headDim: 4 }, 12), 'invalid-bit-width');
  });
});
