import type { AttentionStatisticsOptions } from './attention-statistics.js';
import { CodeRowStore } from './code-row-store.js';
import { growRows, shiftRows } from './code-rows.js';

/**
 * Per layer, per KV head (or over heads, with mergeHeads) and token: the running maximum of the token's attention
 * probability since the layer's last `restart` — one 8-bit code per token and row (storedProbabilityRelativeError)
 * instead of `window` of them. The policy uses it when plans are at least `window` steps apart: it records only
 * the last `window` steps before each plan and restarts after planning, so at every plan this holds exactly what a
 * ring of the last `window` steps (`AttentionWindow`) would. Observation counts come from the token counts of the
 * block's last `window` steps (tokens arrive in order), so nothing else is kept per token: SmolLM2-135M (three KV
 * heads, merged) holds 1 byte per token and layer here, against 14 with the ring of 10 steps.
 */
export class RunningAttentionMaximum extends CodeRowStore {
  /** Per layer: headRows rows of the layer's capacity, codes of the running maxima. */
  private readonly maxima: Uint8Array[] = [];
  private readonly capacities: Int32Array;
  /** Per layer: ring of the token counts of the block's last `window` steps (layer · window + step % window). */
  private readonly stepTokenCounts: Int32Array;
  /** Per layer: steps recorded since the block began. */
  private readonly blockSteps: Float64Array;
  /** Per layer: 1 when the next observation begins a new block. */
  private readonly restartPending: Uint8Array;

  constructor(layers: number, kvHeads: number, window: number, initialCapacityTokens: number, options: AttentionStatisticsOptions = {}) {
    super(layers, kvHeads, window, options);
    const capacity = Math.max(1, initialCapacityTokens);
    this.capacities = new Int32Array(layers).fill(capacity);
    this.stepTokenCounts = new Int32Array(layers * window);
    this.blockSteps = new Float64Array(layers);
    this.restartPending = new Uint8Array(layers);
    for (let layer = 0; layer < layers; layer += 1) this.maxima.push(new Uint8Array(capacity * this.headRows));
  }

  observationCount(layer: number, token: number): number {
    this.checkLayer(layer);
    if (!(token >= 0 && token < (this.tokenCounts[layer] ?? 0))) return 0;
    const recorded = Math.min(this.window, this.blockSteps[layer] ?? 0);
    const base = layer * this.window;
    let count = 0;
    for (let step = 0; step < recorded; step += 1) if ((this.stepTokenCounts[base + step] as number) > token) count += 1;
    return count;
  }

  /** The next observation of the layer begins a new block: every maximum and observation count starts over. */
  restart(layer: number): void {
    this.checkLayer(layer);
    this.restartPending[layer] = 1;
  }

  observe(layer: number, probabilities: Float32Array, tokenCount: number, offset = 0, headStride = tokenCount): void {
    const previous = this.checkObservation(layer, probabilities, tokenCount, offset, headStride);
    this.ensureCapacity(layer, tokenCount);
    const capacity = this.capacity(layer);
    const maxima = this.maxima[layer] as Uint8Array;
    // A new block forgets every token; otherwise only the new tokens start from zero.
    const cleared = this.restartPending[layer] === 1 ? 0 : previous;
    if (this.restartPending[layer] === 1) {
      this.blockSteps[layer] = 0;
      this.restartPending[layer] = 0;
    }
    for (let row = 0; row < this.headRows; row += 1) maxima.fill(0, row * capacity + cleared, row * capacity + tokenCount);
    this.recordStep(maxima, 0, capacity, probabilities, tokenCount, offset, headStride);
    const steps = this.blockSteps[layer] as number;
    this.stepTokenCounts[layer * this.window + (steps % this.window)] = tokenCount;
    this.blockSteps[layer] = steps + 1;
    this.tokenCounts[layer] = tokenCount;
  }

  evictOldest(layer: number, count: number): void {
    const tokenCount = this.checkEviction(layer, count);
    shiftRows(this.maxima[layer] as Uint8Array, this.capacity(layer), count, tokenCount);
    for (let index = layer * this.window; index < (layer + 1) * this.window; index += 1) {
      this.stepTokenCounts[index] = Math.max(0, (this.stepTokenCounts[index] as number) - count);
    }
    this.tokenCounts[layer] = tokenCount - count;
  }

  byteLength(): number {
    let total =
      this.capacities.byteLength +
      this.tokenCounts.byteLength +
      this.stepTokenCounts.byteLength +
      this.blockSteps.byteLength +
      this.restartPending.byteLength;
    for (const array of this.maxima) total += array.byteLength;
    return total;
  }

  liveByteLength(): number {
    return this.liveTokens() * this.headRows;
  }

  protected rows(layer: number): Uint8Array {
    return this.maxima[layer] as Uint8Array;
  }

  protected capacity(layer: number): number {
    return this.capacities[layer] as number;
  }

  private ensureCapacity(layer: number, tokenCount: number): void {
    const oldCapacity = this.capacity(layer);
    if (tokenCount <= oldCapacity) return;
    let capacity = oldCapacity;
    while (capacity < tokenCount) capacity *= 2;
    this.maxima[layer] = growRows(this.maxima[layer] as Uint8Array, oldCapacity, capacity, this.tokenCounts[layer] ?? 0);
    this.capacities[layer] = capacity;
  }
}
