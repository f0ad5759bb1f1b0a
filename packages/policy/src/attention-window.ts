import { QaqError } from '@qaq/errors';
import type { AttentionStatisticsOptions } from './attention-statistics.js';
import { CodeRowStore } from './code-row-store.js';
import { growRows, shiftRows } from './code-rows.js';

const largestStepCount = 2 ** 32 - 1;

/**
 * Per layer, per KV head (or over heads, with mergeHeads) and token: the maximum of the token's attention
 * probability over the last `window` observed steps, for any plan cadence. Storage is slot-major: per layer `window`
 * rings of [rows, capacity] 8-bit codes (storedProbabilityRelativeError), one slot per step (a per-layer step
 * counter picks it), so an observation is one sequential pass per row. A token's observation count is derived from
 * the step it was first observed at (no per-step pass over tokens). Buffers are allocated once per layer and grown
 * by doubling; eviction shifts each row with copyWithin. With plans at least `window` steps apart the policy keeps
 * `RunningAttentionMaximum` instead (1 byte per token and layer merged, against 14 here at a window of 10).
 */
export class AttentionWindow extends CodeRowStore {
  /** Per layer: window · headRows rows of the layer's capacity (firstSteps[layer].length), row (slot · headRows + head). */
  private readonly values: Uint8Array[] = [];
  /** Per layer and token: the layer's step count when the token was first observed; its length is the capacity. */
  private readonly firstSteps: Uint32Array[] = [];
  private readonly steps: Float64Array;

  constructor(layers: number, kvHeads: number, window: number, initialCapacityTokens: number, options: AttentionStatisticsOptions = {}) {
    super(layers, kvHeads, window, options);
    this.steps = new Float64Array(layers);
    const capacity = Math.max(1, initialCapacityTokens);
    for (let layer = 0; layer < layers; layer += 1) {
      this.values.push(new Uint8Array(capacity * this.headRows * window));
      this.firstSteps.push(new Uint32Array(capacity));
    }
  }

  observationCount(layer: number, token: number): number {
    const first = this.firstSteps[layer]?.[token];
    if (first === undefined || token >= (this.tokenCounts[layer] ?? 0)) return 0;
    return Math.min(this.window, (this.steps[layer] ?? 0) - first);
  }

  observe(layer: number, probabilities: Float32Array, tokenCount: number, offset = 0, headStride = tokenCount): void {
    const previous = this.checkObservation(layer, probabilities, tokenCount, offset, headStride);
    const step = this.steps[layer] ?? 0;
    if (step >= largestStepCount) {
      throw new QaqError('too-many-steps', 'a layer observed 2^32 − 1 steps; start a new sequence', { details: { layer, step } });
    }
    this.ensureCapacity(layer, tokenCount);
    const values = this.values[layer] as Uint8Array;
    const capacity = this.capacity(layer);
    const slot = step % this.window;
    // New tokens start with empty (all-zero) rings: zero is below every real probability.
    if (tokenCount > previous) {
      for (let row = 0; row < this.window * this.headRows; row += 1) values.fill(0, row * capacity + previous, row * capacity + tokenCount);
      (this.firstSteps[layer] as Uint32Array).fill(step, previous, tokenCount);
    }
    // The slot's previous step is overwritten: zero its rows, then record this step into them.
    const first = slot * this.headRows * capacity;
    for (let row = 0; row < this.headRows; row += 1) values.fill(0, first + row * capacity, first + row * capacity + tokenCount);
    this.recordStep(values, first, capacity, probabilities, tokenCount, offset, headStride);
    this.tokenCounts[layer] = tokenCount;
    this.steps[layer] = step + 1;
  }

  evictOldest(layer: number, count: number): void {
    const tokenCount = this.checkEviction(layer, count);
    shiftRows(this.values[layer] as Uint8Array, this.capacity(layer), count, tokenCount);
    (this.firstSteps[layer] as Uint32Array).copyWithin(0, count, tokenCount);
    this.tokenCounts[layer] = tokenCount - count;
  }

  byteLength(): number {
    let total = this.tokenCounts.byteLength + this.steps.byteLength;
    for (const array of this.values) total += array.byteLength;
    for (const array of this.firstSteps) total += array.byteLength;
    return total;
  }

  liveByteLength(): number {
    // Per token: a code per slot and row, and the step it was first observed at.
    return this.liveTokens() * (this.window * this.headRows + 4);
  }

  protected rows(layer: number): Uint8Array {
    return this.values[layer] as Uint8Array;
  }

  protected capacity(layer: number): number {
    return (this.firstSteps[layer] as Uint32Array).length;
  }

  private ensureCapacity(layer: number, tokenCount: number): void {
    const oldCapacity = this.capacity(layer);
    if (tokenCount <= oldCapacity) return;
    let capacity = oldCapacity;
    while (capacity < tokenCount) capacity *= 2;
    const live = this.tokenCounts[layer] ?? 0;
    this.values[layer] = growRows(this.values[layer] as Uint8Array, oldCapacity, capacity, live);
    const firstSteps = new Uint32Array(capacity);
    firstSteps.set((this.firstSteps[layer] as Uint32Array).subarray(0, live));
    this.firstSteps[layer] = firstSteps;
  }
}
