import { QaqError } from '@qaq/errors';
import { growRows, maximumAlong, rowMaxima, shiftRows } from './code-rows.js';
import { encodeProbability, probabilityBits, validateProbabilities } from './stored-probability.js';
import type { AttentionStatistics, AttentionStatisticsOptions } from './attention-statistics.js';

const largestStepCount = 2 ** 32 - 1;

/**
 * Per layer, per KV head (or over heads, with mergeHeads) and token: the maximum of the token's attention
 * probability over the last `window` observed steps. Storage is slot-major: per layer `window` rings of
 * [rows, capacity] 16-bit codes (storedProbabilityRelativeError), one slot per step (a per-layer step counter
 * picks it), so an observation is one sequential pass per row. Codes compare like the probabilities they hold, so
 * maxima are taken on codes and decoded once. A token's observation count is derived from the step it was first
 * observed at (no per-step pass over tokens). Buffers are allocated once per layer and grown by doubling; eviction
 * shifts each row with copyWithin. SmolLM2-135M with the lean preset's window of 10 (three KV heads, merged): 24
 * bytes per token and layer, where float32 per head and a float64 first step took 128.
 */
export class AttentionWindow implements AttentionStatistics {
  readonly layers: number;
  readonly kvHeads: number;
  readonly window: number;
  readonly mergeHeads: boolean;
  /** Rows per slot: 1 with mergeHeads, else kvHeads. */
  private readonly headRows: number;
  /** Per layer: window · headRows rows of the layer's capacity (firstSteps[layer].length), row (slot · headRows + head). */
  private readonly values: Uint16Array[] = [];
  /** Per layer and token: the layer's step count when the token was first observed; its length is the capacity. */
  private readonly firstSteps: Uint32Array[] = [];
  private readonly tokenCounts: Int32Array;
  private readonly steps: Float64Array;

  constructor(layers: number, kvHeads: number, window: number, initialCapacityTokens: number, options: AttentionStatisticsOptions = {}) {
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.window = window;
    this.mergeHeads = options.mergeHeads ?? false;
    this.headRows = this.mergeHeads ? 1 : kvHeads;
    this.tokenCounts = new Int32Array(layers);
    this.steps = new Float64Array(layers);
    const capacity = Math.max(1, initialCapacityTokens);
    for (let layer = 0; layer < layers; layer += 1) {
      this.values.push(new Uint16Array(capacity * this.headRows * window));
      this.firstSteps.push(new Uint32Array(capacity));
    }
  }

  tokenCount(layer: number): number {
    this.checkLayer(layer);
    return this.tokenCounts[layer] ?? 0;
  }

  /** Tokens with at least `window` observations have a full window. */
  hasFullWindow(layer: number, token: number): boolean {
    return this.observationCount(layer, token) >= this.window;
  }

  observationCount(layer: number, token: number): number {
    const first = this.firstSteps[layer]?.[token];
    if (first === undefined || token >= (this.tokenCounts[layer] ?? 0)) return 0;
    return Math.min(this.window, (this.steps[layer] ?? 0) - first);
  }

  /**
   * Records one step. `probabilities` is head-major [kvHeads, tokenCount]: for each KV head, each live
   * token's maximum attention probability over that head's query heads. The token count may only grow
   * (new tokens appended since the last step); shrink it with `evictOldest` first. `offset` and `headStride`
   * read head h's row at probabilities[offset + h · headStride …] (rows of a larger prefill matrix).
   */
  observe(layer: number, probabilities: Float32Array, tokenCount: number, offset = 0, headStride = tokenCount): void {
    this.checkLayer(layer);
    const previous = this.tokenCounts[layer] ?? 0;
    if (!Number.isInteger(tokenCount) || tokenCount < previous || tokenCount < 1) {
      throw new QaqError('token-count-mismatch', 'token count must be ≥ the previous count (evict first)', {
        details: { layer, tokenCount, previous },
      });
    }
    validateProbabilities(layer, this.kvHeads, probabilities, tokenCount, offset, headStride);
    const step = this.steps[layer] ?? 0;
    if (step >= largestStepCount) {
      throw new QaqError('too-many-steps', 'a layer observed 2^32 − 1 steps; start a new sequence', { details: { layer, step } });
    }
    this.ensureCapacity(layer, tokenCount);
    const values = this.values[layer] as Uint16Array;
    const capacity = this.capacity(layer);
    const slot = step % this.window;
    // New tokens start with empty (all-zero) rings: zero is below every real probability.
    if (tokenCount > previous) {
      for (let row = 0; row < this.window * this.headRows; row += 1) values.fill(0, row * capacity + previous, row * capacity + tokenCount);
      (this.firstSteps[layer] as Uint32Array).fill(step, previous, tokenCount);
    }
    const bits = probabilityBits(probabilities);
    if (this.mergeHeads) {
      const target = slot * capacity;
      for (let token = 0; token < tokenCount; token += 1) {
        let code = 0;
        for (let head = 0, index = offset + token; head < this.kvHeads; head += 1, index += headStride) {
          const headCode = encodeProbability(bits[index] as number);
          if (headCode > code) code = headCode;
        }
        values[target + token] = code;
      }
    } else {
      for (let head = 0; head < this.kvHeads; head += 1) {
        const source = offset + head * headStride;
        const target = (slot * this.kvHeads + head) * capacity;
        for (let token = 0; token < tokenCount; token += 1) {
          values[target + token] = encodeProbability(bits[source + token] as number);
        }
      }
    }
    this.tokenCounts[layer] = tokenCount;
    this.steps[layer] = step + 1;
  }

  /** Window maximum of (layer, head, token); 0 for a token never observed. Needs per-head rows (no mergeHeads). */
  windowMax(layer: number, head: number, token: number): number {
    this.checkLayer(layer);
    this.checkPerHead();
    const capacity = this.capacity(layer);
    return maximumAlong(this.values[layer] as Uint16Array, head * capacity + token, this.kvHeads * capacity);
  }

  /** Maximum of windowMax over all KV heads (for groups that span every head of a layer). */
  windowMaxOverHeads(layer: number, token: number): number {
    this.checkLayer(layer);
    // Rows are (slot, head) — or slots alone when merged — each `capacity` long: every row's entry for the token.
    return maximumAlong(this.values[layer] as Uint16Array, token, this.capacity(layer));
  }

  /**
   * windowMax (per KV head, group-major: out[token · kvHeads + head]) or, with `overHeads`, windowMaxOverHeads
   * (out[token]) for tokens [0, tokenCount) at once: one sequential pass per ring row instead of a strided walk per
   * token (what `decide` reads for every group). Equal to the per-token methods.
   */
  windowMaxima(layer: number, overHeads: boolean, out: Float32Array, tokenCount: number): void {
    this.checkLayer(layer);
    if (!overHeads) this.checkPerHead();
    const kvHeads = this.kvHeads;
    const capacity = this.capacity(layer);
    const width = overHeads ? tokenCount : tokenCount * kvHeads;
    if (!Number.isInteger(tokenCount) || tokenCount < 0 || tokenCount > capacity || out.length < width) {
      throw new QaqError('shape-mismatch', 'window maxima: the token count or the output does not fit', {
        details: { layer, tokenCount, capacity, outLength: out.length },
      });
    }
    rowMaxima(this.values[layer] as Uint16Array, capacity, kvHeads, overHeads, out, tokenCount);
  }

  /** Drops the `count` oldest tokens of a layer (sliding-window eviction). */
  evictOldest(layer: number, count: number): void {
    this.checkLayer(layer);
    const tokenCount = this.tokenCounts[layer] ?? 0;
    if (!Number.isInteger(count) || count < 0 || count > tokenCount) {
      throw new QaqError('invalid-eviction', 'evict count must be in 0..tokenCount', {
        details: { layer, count, tokenCount },
      });
    }
    shiftRows(this.values[layer] as Uint16Array, this.capacity(layer), count, tokenCount);
    (this.firstSteps[layer] as Uint32Array).copyWithin(0, count, tokenCount);
    this.tokenCounts[layer] = tokenCount - count;
  }

  /** Bytes held by the ring buffers (for memory reporting). */
  byteLength(): number {
    let total = this.tokenCounts.byteLength + this.steps.byteLength;
    for (const array of this.values) total += array.byteLength;
    for (const array of this.firstSteps) total += array.byteLength;
    return total;
  }

  liveByteLength(): number {
    let tokens = 0;
    for (let layer = 0; layer < this.layers; layer += 1) tokens += this.tokenCounts[layer] ?? 0;
    // Per token: a code per slot and row, and the step it was first observed at.
    return tokens * (this.window * this.headRows * 2 + 4);
  }

  private ensureCapacity(layer: number, tokenCount: number): void {
    const oldCapacity = this.capacity(layer);
    if (tokenCount <= oldCapacity) return;
    let capacity = oldCapacity;
    while (capacity < tokenCount) capacity *= 2;
    const live = this.tokenCounts[layer] ?? 0;
    const values = growRows(this.values[layer] as Uint16Array, oldCapacity, capacity, live);
    const firstSteps = new Uint32Array(capacity);
    firstSteps.set((this.firstSteps[layer] as Uint32Array).subarray(0, live));
    this.values[layer] = values;
    this.firstSteps[layer] = firstSteps;
  }

  /** Tokens the layer's buffers hold room for. */
  private capacity(layer: number): number {
    return (this.firstSteps[layer] as Uint32Array).length;
  }

  private checkPerHead(): void {
    if (this.mergeHeads) {
      throw new QaqError('heads-merged', 'per-head maxima are not kept with mergeHeads; read windowMaxOverHeads');
    }
  }

  private checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers) {
      throw new QaqError('invalid-layer', 'layer out of range', { details: { layer, layers: this.layers } });
    }
  }
}
