import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CacheLayerView } from './cache-view.js';
import type { GroupLayout, PolicyConfig } from './config.js';
import { LayerPlan } from './layer-plan.js';
import { AttentionAwarePolicy } from './policy.js';
import { CalibratedQueryNorms } from './query-norms.js';
import { RunningAttentionMaximum } from './running-attention-maximum.js';

/** A cache view that applies plans, so two policies can be run side by side over many plans. */
class PlannedView implements CacheLayerView {
  keyBitsArray = new Uint8Array(0);
  valueBitsArray = new Uint8Array(0);
  ranges = new Float64Array(0);
  tokenCount = 0;
  readonly recentTokens = 0;
  readonly canPromote = false;
  constructor(readonly groupsPerToken: number) {}
  append(count: number, seed: number): void {
    const groups = (this.tokenCount + count) * this.groupsPerToken;
    const grow = <T extends Uint8Array | Float64Array>(array: T, make: (length: number) => T): T => {
      const grown = make(groups);
      grown.set(array.subarray(0, this.tokenCount * this.groupsPerToken));
      return grown;
    };
    this.keyBitsArray = grow(this.keyBitsArray, (length) => new Uint8Array(length));
    this.valueBitsArray = grow(this.valueBitsArray, (length) => new Uint8Array(length));
    this.ranges = grow(this.ranges, (length) => new Float64Array(length));
    for (let group = this.tokenCount * this.groupsPerToken; group < groups; group += 1) {
      this.keyBitsArray[group] = 8;
      this.valueBitsArray[group] = 8;
      this.ranges[group] = 0.5 + ((seed + group * 7919) % 97) / 10;
    }
    this.tokenCount += count;
  }
  evict(count: number): void {
    const shift = count * this.groupsPerToken;
    this.keyBitsArray.copyWithin(0, shift);
    this.valueBitsArray.copyWithin(0, shift);
    this.ranges.copyWithin(0, shift);
    this.tokenCount -= count;
  }
  apply(plan: LayerPlan): void {
    const groups = this.tokenCount * this.groupsPerToken;
    this.keyBitsArray.set(plan.keys.targetBits.subarray(0, groups));
    this.valueBitsArray.set(plan.values.targetBits.subarray(0, groups));
  }
  keyBits(group: number): number {
    return this.keyBitsArray[group] as number;
  }
  valueBits(group: number): number {
    return this.valueBitsArray[group] as number;
  }
  keyRange(group: number): number {
    return this.ranges[group] as number;
  }
  valueRange(group: number): number {
    return this.ranges[group] as number;
  }
  readGroups(kind: 'keys' | 'values', bitsOut: Uint8Array, rangesOut: Float64Array): void {
    const groups = this.tokenCount * this.groupsPerToken;
    bitsOut.set((kind === 'keys' ? this.keyBitsArray : this.valueBitsArray).subarray(0, groups));
    rangesOut.set(this.ranges.subarray(0, groups));
  }
}

function randomProbabilities(length: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const probabilities = new Float32Array(length);
  for (let index = 0; index < length; index += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    // Mostly small attention with a few large entries, like real rows.
    const uniform = state / 2 ** 32;
    probabilities[index] = Math.fround(uniform < 0.1 ? uniform * 5 : uniform ** 6 / 50);
  }
  return probabilities;
}

type Event = { kind: 'decode'; seed: number } | { kind: 'prefill'; tokens: number; seed: number } | { kind: 'evict'; count: number };

describe('RunningAttentionMaximum', () => {
  it('makes the same plans as the ring of the last n steps when plans are at least n steps apart', () => {
    const event = fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('decode' as const), seed: fc.integer() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('prefill' as const), tokens: fc.integer({ min: 1, max: 12 }), seed: fc.integer() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('evict' as const), count: fc.integer({ min: 0, max: 6 }) }) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom<GroupLayout>('token-layer', 'token-layer-head'),
        fc.array(event, { minLength: 1, maxLength: 80, size: 'large' }),
        (window, extraInterval, groupLayout, events: Event[]) => {
          const kvHeads = 2;
          const planInterval = window + extraInterval;
          const config: PolicyConfig = {
            layers: 1,
            kvHeads,
            scoreScale: 0.125,
            sigmaScoreMax: 0.01,
            sigmaOutputMax: 0.05,
            minBits: 2,
            maxBits: 8,
            keyBound: 'attention',
            window,
            groupLayout,
            initialCapacityTokens: 2,
            sinkTokens: 1,
          };
          const queryNorms = new CalibratedQueryNorms({
            format: 'qaq-query-norms',
            version: 1,
            quantile: 0.9,
            scoreScale: 0.125,
            layers: 1,
            kvHeads,
            values: [[3, 5]],
          });
          const running = new AttentionAwarePolicy({ ...config, planInterval }, queryNorms);
          const ring = new AttentionAwarePolicy(config, queryNorms);
          const groupsPerToken = groupLayout === 'token-layer-head' ? kvHeads : 1;
          const runningView = new PlannedView(groupsPerToken);
          const ringView = new PlannedView(groupsPerToken);
          const runningPlan = new LayerPlan();
          const ringPlan = new LayerPlan();
          let skipped = 0;
          const plan = (): void => {
            running.decide(0, runningView, runningPlan);
            ring.decide(0, ringView, ringPlan);
            const groups = runningView.tokenCount * groupsPerToken;
            expect(Array.from(runningPlan.keys.targetBits.subarray(0, groups))).toEqual(Array.from(ringPlan.keys.targetBits.subarray(0, groups)));
            expect(Array.from(runningPlan.values.targetBits.subarray(0, groups))).toEqual(Array.from(ringPlan.values.targetBits.subarray(0, groups)));
            runningView.apply(runningPlan);
            ringView.apply(ringPlan);
          };
          let stepsSincePlan = 0;
          for (const current of events) {
            if (current.kind === 'evict') {
              const count = Math.min(current.count, runningView.tokenCount);
              running.evictOldest(0, count);
              ring.evictOldest(0, count);
              runningView.evict(count);
              ringView.evict(count);
              if (runningView.tokenCount === 0) stepsSincePlan = 0;
              continue;
            }
            if (current.kind === 'prefill') {
              // Prefill chunks of at least a window's rows, each planned at once (as the runtime does).
              const queryCount = Math.max(window, current.tokens);
              runningView.append(queryCount, current.seed);
              ringView.append(queryCount, current.seed);
              const tokenCount = runningView.tokenCount;
              const matrix = randomProbabilities(queryCount * kvHeads * tokenCount, current.seed);
              // Causal: row i sees the first tokenCount − queryCount + i + 1 tokens.
              for (let row = 0; row < queryCount; row += 1) {
                for (let head = 0; head < kvHeads; head += 1) {
                  const start = (row * kvHeads + head) * tokenCount;
                  matrix.fill(0, start + tokenCount - queryCount + row + 1, start + tokenCount);
                }
              }
              running.observePrefill(0, matrix, queryCount, tokenCount);
              ring.observePrefill(0, matrix, queryCount, tokenCount);
              plan();
              stepsSincePlan = 0;
              continue;
            }
            runningView.append(1, current.seed);
            ringView.append(1, current.seed);
            const probabilities = randomProbabilities(kvHeads * runningView.tokenCount, current.seed);
            ring.observe(0, probabilities, runningView.tokenCount);
            if (running.recordsNextStep(0)) running.observe(0, probabilities, runningView.tokenCount);
            else {
              running.passStep(0, runningView.tokenCount);
              skipped += 1;
            }
            stepsSincePlan += 1;
            if (stepsSincePlan >= planInterval) {
              plan();
              stepsSincePlan = 0;
            }
          }
          expect(skipped).toBeGreaterThanOrEqual(0);
          expect(running.statisticsByteLength()).toBeGreaterThan(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('skips exactly the steps more than n before the next plan, and refuses to skip the others', () => {
    const queryNorms = new CalibratedQueryNorms({ format: 'qaq-query-norms', version: 1, quantile: 0.9, scoreScale: 1, layers: 1, kvHeads: 1, values: [[1]] });
    const config = { layers: 1, kvHeads: 1, scoreScale: 1, sigmaScoreMax: 0.01, sigmaOutputMax: 0.05, minBits: 2, maxBits: 8, window: 3 };
    const policy = new AttentionAwarePolicy({ ...config, planInterval: 8 }, queryNorms);
    const pattern: boolean[] = [];
    for (let step = 1; step <= 8; step += 1) {
      pattern.push(policy.recordsNextStep(0));
      if (policy.recordsNextStep(0)) policy.observe(0, new Float32Array(step).fill(1 / step), step);
      else policy.passStep(0, step);
    }
    expect(pattern).toEqual([false, false, false, false, false, true, true, true]);
    try {
      policy.passStep(0, 9);
      expect.unreachable();
    } catch (error) {
      expect(isQaqError(error, 'statistics-needed')).toBe(true);
    }
    const ring = new AttentionAwarePolicy({ ...config, planInterval: 2 }, queryNorms);
    expect(ring.recordsNextStep(0)).toBe(true);
  });

  it('holds 1 byte per token and layer with merged heads, growing by doubling, and checks its input', () => {
    const store = new RunningAttentionMaximum(2, 3, 10, 1024, { mergeHeads: true });
    const before = store.byteLength();
    store.observe(1, new Float32Array(3 * 1500).fill(0.25), 1500);
    expect(store.byteLength() - before).toBe(2048 - 1024);
    expect(store.windowMaxOverHeads(1, 1499)).toBe(0.25);
    expect(store.observationCount(1, 0)).toBe(1);
    expect(() => store.windowMax(1, 0, 0)).toThrow(/per-head/);
    expect(() => store.observe(1, new Float32Array(3 * 1500).fill(Number.NaN), 1500)).toThrow(/probabilities/);
    expect(() => store.observe(1, new Float32Array(3), 1)).toThrow(/token count/);
    expect(store.tokenCount(1)).toBe(1500);
    store.restart(1);
    store.observe(1, new Float32Array(3 * 1500).fill(0.125), 1500);
    expect(store.windowMaxOverHeads(1, 0)).toBe(0.125);
    expect(store.observationCount(1, 0)).toBe(1);
    store.evictOldest(1, 1000);
    expect(store.tokenCount(1)).toBe(500);
    expect(store.windowMaxOverHeads(1, 499)).toBe(0.125);
  });
});
