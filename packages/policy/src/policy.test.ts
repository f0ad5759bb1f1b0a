import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitsForRange, keyAllowedStd, keyAllowedStdForAttention, valueAllowedStd } from '@qaq/quantization';
import type { CacheLayerView } from './cache-view.js';
import { type PolicyConfig } from './config.js';
import { LayerPlan } from './layer-plan.js';
import { AttentionAwarePolicy } from './policy.js';
import { policyPreset, policyPresetNames } from './presets.js';
import { CalibratedQueryNorms } from './query-norms.js';
import { storedProbability } from './stored-probability.js';

/** An array-backed CacheLayerView for tests. */
class ArrayView implements CacheLayerView {
  readonly keyBitsArray: Uint8Array;
  readonly valueBitsArray: Uint8Array;
  constructor(
    readonly tokenCount: number,
    readonly groupsPerToken: number,
    readonly keyRanges: Float64Array,
    readonly valueRanges: Float64Array,
    initialBits: number,
    readonly canPromote = false,
    readonly recentTokens = 0,
  ) {
    this.keyBitsArray = new Uint8Array(tokenCount * groupsPerToken).fill(initialBits);
    this.valueBitsArray = new Uint8Array(tokenCount * groupsPerToken).fill(initialBits);
  }
  keyBits(group: number): number {
    return this.keyBitsArray[group] as number;
  }
  valueBits(group: number): number {
    return this.valueBitsArray[group] as number;
  }
  keyRange(group: number): number {
    return this.keyRanges[group] as number;
  }
  valueRange(group: number): number {
    return this.valueRanges[group] as number;
  }
  readGroups(kind: 'keys' | 'values', bitsOut: Uint8Array, rangesOut: Float64Array): void {
    const groups = this.tokenCount * this.groupsPerToken;
    bitsOut.set((kind === 'keys' ? this.keyBitsArray : this.valueBitsArray).subarray(0, groups));
    rangesOut.set((kind === 'keys' ? this.keyRanges : this.valueRanges).subarray(0, groups));
  }
}

const norms = (layers: number, kvHeads: number, value: number): CalibratedQueryNorms =>
  new CalibratedQueryNorms({
    format: 'qaq-query-norms',
    version: 1,
    quantile: 0.9,
    scoreScale: 0.125,
    layers,
    kvHeads,
    values: Array.from({ length: layers }, () => Array.from({ length: kvHeads }, () => value)),
  });

const baseConfig: PolicyConfig = {
  layers: 1,
  kvHeads: 2,
  scoreScale: 0.125,
  sigmaScoreMax: 0.02,
  sigmaOutputMax: 0.02,
  minBits: 1,
  maxBits: 8,
  window: 3,
};

/** Observes `tokenCount` tokens (flat attention) for a full window, decides with tiny ranges, returns max(key, value) bits per token. */
function decideAllFor(policy: AttentionAwarePolicy, tokenCount: number): number[] {
  const heads = policy.config.kvHeads;
  for (let step = 0; step < policy.config.window; step += 1) policy.observe(0, new Float32Array(heads * tokenCount).fill(0.01), tokenCount);
  const ranges = new Float64Array(tokenCount).fill(0.01);
  const plan = new LayerPlan(2);
  policy.decide(0, new ArrayView(tokenCount, 1, ranges, ranges, 16), plan);
  return Array.from(plan.keys.targetBits.subarray(0, tokenCount), (bits, token) => Math.max(bits, plan.values.targetBits[token] as number));
}

function expectCode(call: () => unknown, code: string): void {
  try {
    call();
    expect.unreachable(`should throw ${code}`);
  } catch (error) {
    expect(isQaqError(error, code), String(error)).toBe(true);
  }
}

describe('AttentionAwarePolicy', () => {
  it('validates its config with typed errors', () => {
    const source = norms(1, 2, 1);
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, sigmaScoreMax: 0 }, source), 'invalid-policy-config');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, sigmaOutputMax: Number.NaN }, source), 'invalid-policy-config');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, scoreScale: Number.POSITIVE_INFINITY }, source), 'invalid-policy-config');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, minBits: 6, maxBits: 4 }, source), 'invalid-policy-config');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, maxBits: 9 }, source), 'invalid-bit-width');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, minBits: 0 }, source), 'invalid-bit-width');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, maxBits: 17 }, source), 'invalid-bit-width');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, window: 0 }, source), 'invalid-policy-config');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, layers: 1.5 }, source), 'invalid-policy-config');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, minBits: 3, keyMinBits: 2 }, source), 'invalid-policy-config');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, maxBits: 4, keyMinBits: 5 }, source), 'invalid-policy-config');
    expect(new AttentionAwarePolicy({ ...baseConfig, maxBits: 16 }, source).config.window).toBe(3);
    expect(new AttentionAwarePolicy(baseConfig, source).config.keyMinBits).toBe(baseConfig.minBits);
  });

  it('rejects a values\' floor outside B_min..B_max and defaults it to B_min', () => {
    const source = norms(1, 2, 2);
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, minBits: 3, valueMinBits: 2 }, source), 'invalid-policy-config');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, maxBits: 4, valueMinBits: 5 }, source), 'invalid-policy-config');
    expect(new AttentionAwarePolicy(baseConfig, source).config.valueMinBits).toBe(baseConfig.minBits);
  });

  it.each([
    { side: 'keyMinBits floors the keys only', floors: { keyMinBits: 4 }, keys: 4, values: 2 },
    { side: 'valueMinBits floors the values only', floors: { valueMinBits: 3 }, keys: 2, values: 3 },
  ])('$side: the other side still reaches B_min', ({ floors, keys, values }) => {
    const kvHeads = 2;
    const config = { ...baseConfig, sigmaScoreMax: 10, sigmaOutputMax: 10, minBits: 2, ...floors };
    const policy = new AttentionAwarePolicy(config, norms(1, kvHeads, 2));
    const flat = new Float32Array(kvHeads * 6).fill(0.01);
    for (let step = 0; step < 3; step += 1) policy.observe(0, flat, 6);
    // Tiny ranges under loose budgets: the formulas alone would give B_min everywhere.
    const ranges = new Float64Array(6 * kvHeads).fill(0.01);
    const plan = new LayerPlan(2);
    policy.decide(0, new ArrayView(6, kvHeads, ranges, ranges, 8), plan);
    for (let group = 0; group < 6 * kvHeads; group += 1) {
      expect(plan.keys.targetBits[group]).toBe(keys);
      expect(plan.values.targetBits[group]).toBe(values);
    }
  });

  it('never demotes attention sinks, counting positions through eviction until the layer empties', () => {
    const kvHeads = 2;
    const source = norms(1, kvHeads, 2);
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, sinkTokens: -1 }, source), 'invalid-policy-config');
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, sinkTokens: 1.5 }, source), 'invalid-policy-config');
    expect(new AttentionAwarePolicy(baseConfig, source).sinkTokenCount(0)).toBe(0);
    // Loose budgets send every other token to B_min; the first three positions stay as stored (fp16).
    const config = { ...baseConfig, sigmaScoreMax: 10, sigmaOutputMax: 10, minBits: 2, sinkTokens: 3, groupLayout: 'token-layer' as const };
    expect(decideAllFor(new AttentionAwarePolicy(config, source), 6)).toEqual([16, 16, 16, 2, 2, 2]);
    const evicting = new AttentionAwarePolicy(config, source);
    decideAllFor(evicting, 6);
    evicting.evictOldest(0, 2);
    expect(evicting.sinkTokenCount(0)).toBe(1);
    expect(decideAllFor(evicting, 5)).toEqual([16, 2, 2, 2, 2]);
    // Emptying the layer starts a new sequence.
    evicting.evictOldest(0, 5);
    expect(evicting.sinkTokenCount(0)).toBe(3);
  });

  it('keeps tokens without a full window at B_max and decides the rest from the formulas', () => {
    const kvHeads = 2;
    const policy = new AttentionAwarePolicy(baseConfig, norms(1, kvHeads, 2));
    // 4 prompt tokens observed for 3 steps; then one new token arrives.
    const probabilities = (tokenCount: number): Float32Array => {
      const out = new Float32Array(kvHeads * tokenCount);
      for (let head = 0; head < kvHeads; head += 1) {
        for (let token = 0; token < tokenCount; token += 1) out[head * tokenCount + token] = token === 0 ? 0.6 : 0.1 / (head + 1);
      }
      return out;
    };
    for (let step = 0; step < 3; step += 1) policy.observe(0, probabilities(4), 4);
    policy.observe(0, probabilities(5), 5);
    const ranges = new Float64Array(5 * kvHeads).fill(4);
    const view = new ArrayView(5, kvHeads, ranges, ranges, 8);
    const plan = new LayerPlan(2);
    policy.decide(0, view, plan);
    expect(plan.groupCount).toBe(10);
    const keyStd = keyAllowedStd(0.02, 5, 2);
    for (let token = 0; token < 5; token += 1) {
      for (let head = 0; head < kvHeads; head += 1) {
        const group = token * kvHeads + head;
        if (token === 4) {
          expect(plan.keys.targetBits[group]).toBe(8);
          expect(plan.values.targetBits[group]).toBe(8);
          continue;
        }
        const attention = storedProbability(token === 0 ? 0.6 : 0.1 / (head + 1));
        expect(plan.keys.targetBits[group]).toBe(bitsForRange(4, keyStd, 1, 8));
        expect(plan.values.targetBits[group]).toBe(bitsForRange(4, valueAllowedStd(0.02, 5, attention), 1, 8));
      }
    }
    for (const kind of [plan.keys, plan.values]) {
      expect(kind.demoteCount + kind.promoteCount + kind.unchangedCount).toBe(10);
      for (let index = 0; index < kind.demoteCount; index += 1) {
        expect(kind.demoteBits[index]).toBe(kind.targetBits[kind.demoteGroups[index] as number]);
      }
    }
    expect(plan.values.demoteCount).toBeGreaterThan(0);
  });

  it("keyBound 'attention' (and 'attention-shared', at σ_S,max / √T) sizes each key from its token's predicted attention; more attention never fewer bits", () => {
    expectCode(() => new AttentionAwarePolicy({ ...baseConfig, keyBound: 'both' as never }, norms(1, 2, 2)), 'invalid-policy-config');
    expect(new AttentionAwarePolicy(baseConfig, norms(1, 2, 2)).config.keyBound).toBe('uniform');
    fc.assert(
      fc.property(
        fc.double({ min: 1e-5, max: 0.1, noNaN: true }),
        fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 12 }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        fc.constantFrom('attention' as const, 'attention-shared' as const),
        (sigma, attention, range, keyBound) => {
          const tokenCount = attention.length;
          const policy = new AttentionAwarePolicy({ ...baseConfig, kvHeads: 1, window: 1, sigmaScoreMax: sigma, keyBound }, norms(1, 1, 3));
          policy.observe(0, Float32Array.from(attention), tokenCount);
          const ranges = new Float64Array(tokenCount).fill(range);
          const plan = new LayerPlan(4);
          policy.decide(0, new ArrayView(tokenCount, 1, ranges, ranges, 8), plan);
          // 'attention-shared': the T tokens share σ_S,max, each bounded at σ_S,max / √T.
          const tokenSigma = keyBound === 'attention' ? sigma : sigma / Math.sqrt(tokenCount);
          for (let token = 0; token < tokenCount; token += 1) {
            const predicted = storedProbability(attention[token] as number);
            expect(plan.keys.targetBits[token]).toBe(bitsForRange(range, keyAllowedStdForAttention(tokenSigma, predicted, 3), 1, 8));
            for (let other = 0; other < tokenCount; other += 1) {
              if ((attention[other] as number) > (attention[token] as number)) {
                expect(plan.keys.targetBits[other]).toBeGreaterThanOrEqual(plan.keys.targetBits[token] as number);
              }
            }
          }
        },
      ),
    );
  });

  it("keyBound 'attention' uses each head's attention and ‖q̃‖², or their maxima for groups spanning the heads", () => {
    const heads = 2;
    const headNorms = new CalibratedQueryNorms({ format: 'qaq-query-norms', version: 1, quantile: 0.9, scoreScale: 0.125, layers: 1, kvHeads: heads, values: [[1, 9]] });
    // [kvHeads, tokenCount]: head 0 attends token 0, head 1 token 2.
    const attention = Float32Array.from([0.5, 0.01, 0.001, 0.02, 0.003, 0.4]);
    const tokenCount = 3;
    const sigma = 0.001;
    const range = 2;
    for (const groupLayout of ['token-layer-head', 'token-layer'] as const) {
      const policy = new AttentionAwarePolicy({ ...baseConfig, kvHeads: heads, window: 1, sigmaScoreMax: sigma, groupLayout, keyBound: 'attention' }, headNorms);
      policy.observe(0, attention, tokenCount);
      const groupsPerToken = groupLayout === 'token-layer' ? 1 : heads;
      const ranges = new Float64Array(tokenCount * groupsPerToken).fill(range);
      const plan = new LayerPlan(4);
      policy.decide(0, new ArrayView(tokenCount, groupsPerToken, ranges, ranges, 8), plan);
      for (let token = 0; token < tokenCount; token += 1) {
        for (let group = 0; group < groupsPerToken; group += 1) {
          const predicted = storedProbability(groupLayout === 'token-layer'
            ? Math.max(attention[token] as number, attention[tokenCount + token] as number)
            : (attention[group * tokenCount + token] as number));
          const norm = groupLayout === 'token-layer' ? 9 : group === 0 ? 1 : 9;
          expect(plan.keys.targetBits[token * groupsPerToken + group]).toBe(bitsForRange(range, keyAllowedStdForAttention(sigma, predicted, norm), 1, 8));
        }
      }
    }
  });

  it('promotes only when the cache can, and leaves the recent window alone', () => {
    const policy = new AttentionAwarePolicy({ ...baseConfig, kvHeads: 1, window: 1 }, norms(1, 1, 2));
    policy.observe(0, new Float32Array([0.5, 0.3, 0.2]), 3);
    const ranges = new Float64Array(3).fill(10);
    const plan = new LayerPlan(1);
    policy.decide(0, new ArrayView(3, 1, ranges, ranges, 1, false, 1), plan);
    expect(plan.values.promoteCount).toBe(0);
    expect(plan.values.blockedPromotionCount).toBe(2);
    policy.decide(0, new ArrayView(3, 1, ranges, ranges, 1, true, 1), plan);
    expect(plan.values.promoteCount).toBe(2);
    expect(Array.from(plan.values.promoteGroups.subarray(0, 2))).toEqual([0, 1]);
    expect(plan.values.targetBits[2]).toBe(1);
  });

  it('per-(token, layer) groups use the max over KV heads', () => {
    const policy = new AttentionAwarePolicy({ ...baseConfig, groupLayout: 'token-layer', window: 1 }, norms(1, 2, 2));
    policy.observe(0, new Float32Array([0.01, 0.9, 0.8, 0.02]), 2);
    expect(policy.predictedAttention(0, 0, 0)).toBe(storedProbability(0.8));
    expect(policy.predictedAttention(0, 1, 0)).toBe(storedProbability(0.9));
    const plan = new LayerPlan();
    expectCode(() => policy.decide(0, new ArrayView(2, 2, new Float64Array(4), new Float64Array(4), 8), plan), 'group-layout-mismatch');
    expectCode(() => policy.decide(0, new ArrayView(3, 1, new Float64Array(3), new Float64Array(3), 8), plan), 'token-count-mismatch');
    policy.decide(0, new ArrayView(2, 1, new Float64Array([1, 1]), new Float64Array([1, 1]), 8), plan);
    expect(plan.groupCount).toBe(2);
  });

  it('looser budgets never give more bits', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.double({ min: 1, max: 100, noNaN: true }),
        fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 12 }),
        fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 12, maxLength: 12 }),
        (sigma, looseness, attention, rangeList) => {
          const tokenCount = attention.length;
          const ranges = Float64Array.from(rangeList.slice(0, tokenCount));
          const targets = (scale: number): [Uint8Array, Uint8Array] => {
            const policy = new AttentionAwarePolicy(
              { ...baseConfig, kvHeads: 1, window: 1, sigmaScoreMax: sigma * scale, sigmaOutputMax: sigma * scale },
              norms(1, 1, 3),
            );
            policy.observe(0, Float32Array.from(attention), tokenCount);
            const plan = new LayerPlan(4);
            policy.decide(0, new ArrayView(tokenCount, 1, ranges, ranges, 8), plan);
            return [plan.keys.targetBits.slice(0, tokenCount), plan.values.targetBits.slice(0, tokenCount)];
          };
          const [tightKeys, tightValues] = targets(1);
          const [looseKeys, looseValues] = targets(looseness);
          for (let token = 0; token < tokenCount; token += 1) {
            expect(looseKeys[token]).toBeLessThanOrEqual(tightKeys[token] as number);
            expect(looseValues[token]).toBeLessThanOrEqual(tightValues[token] as number);
          }
        },
      ),
    );
  });

  it('has presets as plain, valid data', () => {
    for (const name of policyPresetNames) {
      const preset = policyPreset(name);
      expect(JSON.parse(JSON.stringify(preset))).toEqual(preset);
      expect(Number.isInteger(preset.planInterval) && preset.planInterval >= 1).toBe(true);
      expect(() => new AttentionAwarePolicy({ ...baseConfig, ...preset }, norms(1, 2, 1))).not.toThrow();
    }
    expectCode(() => policyPreset('nope' as 'quality'), 'unknown-preset');
  });

  it('observePrefill equals observing the last n causal rows one by one', () => {
    const kvHeads = 2;
    const tokenCount = 7;
    const queryCount = 7;
    const matrix = new Float32Array(queryCount * kvHeads * tokenCount);
    for (let row = 0; row < queryCount; row += 1) {
      for (let head = 0; head < kvHeads; head += 1) {
        for (let token = 0; token <= tokenCount - queryCount + row; token += 1) {
          matrix[(row * kvHeads + head) * tokenCount + token] = Math.fround(((row * 13 + head * 7 + token * 3) % 11) / 11);
        }
      }
    }
    const config = { ...baseConfig, window: 3 };
    const prefill = new AttentionAwarePolicy(config, norms(1, kvHeads, 1));
    prefill.observePrefill(0, matrix, queryCount, tokenCount);
    const stepwise = new AttentionAwarePolicy(config, norms(1, kvHeads, 1));
    for (let row = queryCount - 3; row < queryCount; row += 1) {
      const rowTokens = row + 1;
      const packed = new Float32Array(kvHeads * rowTokens);
      for (let head = 0; head < kvHeads; head += 1) {
        packed.set(matrix.subarray((row * kvHeads + head) * tokenCount, (row * kvHeads + head) * tokenCount + rowTokens), head * rowTokens);
      }
      stepwise.observe(0, packed, rowTokens);
    }
    expect(prefill.tokenCount(0)).toBe(tokenCount);
    for (let token = 0; token < tokenCount; token += 1) {
      expect(prefill.hasFullWindow(0, token)).toBe(stepwise.hasFullWindow(0, token));
      expect(prefill.hasFullWindow(0, token)).toBe(token < tokenCount - 2);
      for (let head = 0; head < kvHeads; head += 1) {
        expect(prefill.predictedAttention(0, token, head)).toBe(stepwise.predictedAttention(0, token, head));
      }
    }
    const bad = matrix.slice();
    bad[bad.length - 1] = Number.NaN;
    const fresh = new AttentionAwarePolicy(config, norms(1, kvHeads, 1));
    expectCode(() => fresh.observePrefill(0, bad, queryCount, tokenCount), 'invalid-attention');
    expect(fresh.tokenCount(0)).toBe(0);
    expectCode(() => fresh.observePrefill(0, matrix, queryCount, tokenCount + 1), 'shape-mismatch');
  });

  it('staggers the layers\' plans by ⌊l·k / layers⌋ steps, from a sequence start and after a plan off the cadence', () => {
    const layers = 4;
    const planInterval = 8;
    const config = { ...baseConfig, layers, kvHeads: 1, window: planInterval, planInterval };
    /** Decode steps 1..steps of every layer (one token each); the steps at which each layer planned. */
    const planSteps = (policy: AttentionAwarePolicy, firstTokens: number, steps: number): number[][] => {
      const planned: number[][] = Array.from({ length: layers }, () => []);
      for (let step = 1; step <= steps; step += 1) {
        const tokens = firstTokens + step;
        for (let layer = 0; layer < layers; layer += 1) {
          if (policy.recordsNextStep(layer)) policy.observe(layer, new Float32Array(tokens).fill(1 / tokens), tokens);
          else policy.passStep(layer, tokens);
          if (!policy.planDue(layer)) continue;
          const ranges = new Float64Array(tokens).fill(0.01);
          policy.decide(layer, new ArrayView(tokens, 1, ranges, ranges, 8), new LayerPlan(1));
          (planned[layer] as number[]).push(step);
        }
      }
      return planned;
    };
    const together = planSteps(new AttentionAwarePolicy(config, norms(layers, 1, 1)), 0, 20);
    expect(together).toEqual([[8, 16], [8, 16], [8, 16], [8, 16]]);
    const staggered = new AttentionAwarePolicy({ ...config, staggeredPlans: true }, norms(layers, 1, 1));
    // Phases 0, 2, 4, 6: layer l first plans after 8 − 2l steps, then every 8.
    expect(planSteps(staggered, 0, 20)).toEqual([[8, 16], [6, 14], [4, 12, 20], [2, 10, 18]]);
    // A prefill plan (off the cadence) puts every layer back on its phase.
    for (let layer = 0; layer < layers; layer += 1) {
      const rows = new Float32Array(3 * 23).fill(1 / 23);
      staggered.observePrefill(layer, rows, 3, 23);
      const ranges = new Float64Array(23).fill(0.01);
      staggered.decide(layer, new ArrayView(23, 1, ranges, ranges, 8), new LayerPlan(1));
    }
    expect(planSteps(staggered, 23, 9)).toEqual([[8], [6], [4], [2]]);
    // A sequence's end (every token evicted) does too.
    for (let layer = 0; layer < layers; layer += 1) staggered.evictOldest(layer, 32);
    expect(planSteps(staggered, 0, 8)).toEqual([[8], [6], [4], [2]]);
  });

});
