import { QaqError } from '@qaq/errors';

/**
 * Per layer, per KV head and token: the maximum of the token's attention probability over the last
 * `window` observed steps. Storage is slot-major: per layer `window` rings of [kvHeads, capacity], one slot per
 * step (a per-layer step counter picks it), so an observation is one contiguous copy per head — at 7k tokens of
 * SmolLM2 that is 30 × 86 KB per decode step, where a token-major ring touched a cache line per token and head.
 * A token's observation count is derived from the step it was first observed at (no per-step pass over tokens).
 * Buffers are allocated once per layer and grown by doubling; eviction shifts each row with copyWithin.
 */
export class AttentionWindow {
  readonly layers: number;
  readonly kvHeads: number;
  readonly window: number;
  /** Per layer: window · kvHeads rows of the layer's capacity (firstSteps[layer].length), row (slot · kvHeads + head). */
  private readonly values: Float32Array[] = [];
  /** Per layer and token: the layer's step count when the token was first observed; its length is the capacity. */
  private readonly firstSteps: Float64Array[] = [];
  private readonly tokenCounts: Int32Array;
  private readonly steps: Float64Array;

  constructor(layers: number, kvHeads: number, window: number, initialCapacityTokens: number) {
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.window = window;
    this.tokenCounts = new Int32Array(layers);
    this.steps = new Float64Array(layers);
    const capacity = Math.max(1, initialCapacityTokens);
    for (let layer = 0; layer < layers; layer += 1) {
      this.values.push(new Float32Array(capacity * kvHeads * window));
      this.firstSteps.push(new Float64Array(capacity));
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
    const contiguous = offset === 0 && headStride === tokenCount;
    if (
      (contiguous && probabilities.length !== tokenCount * this.kvHeads) ||
      !Number.isInteger(offset) ||
      offset < 0 ||
      !Number.isInteger(headStride) ||
      headStride < tokenCount ||
      offset + (this.kvHeads - 1) * headStride + tokenCount > probabilities.length
    ) {
      throw new QaqError('shape-mismatch', 'probabilities must be [kvHeads, tokenCount]', {
        details: { length: probabilities.length, expected: tokenCount * this.kvHeads, offset, headStride },
      });
    }
    for (let head = 0; head < this.kvHeads; head += 1) {
      const end = offset + head * headStride + tokenCount;
      for (let index = offset + head * headStride; index < end; index += 1) {
        const probability = probabilities[index] as number;
        // Small tolerance above 1 for float rounding of softmax sums.
        if (!(probability >= 0 && probability <= 1.0001)) {
          throw new QaqError('invalid-attention', 'attention probabilities must be finite and in [0, 1]', {
            details: { layer, index, probability },
          });
        }
      }
    }
    this.ensureCapacity(layer, tokenCount);
    const values = this.values[layer] as Float32Array;
    const capacity = this.capacity(layer);
    const step = this.steps[layer] ?? 0;
    const slot = step % this.window;
    // New tokens start with empty (all-zero) rings: zero is below every real probability.
    if (tokenCount > previous) {
      for (let row = 0; row < this.window * this.kvHeads; row += 1) values.fill(0, row * capacity + previous, row * capacity + tokenCount);
      (this.firstSteps[layer] as Float64Array).fill(step, previous, tokenCount);
    }
    for (let head = 0; head < this.kvHeads; head += 1) {
      const rowOffset = offset + head * headStride;
      values.set(probabilities.subarray(rowOffset, rowOffset + tokenCount), (slot * this.kvHeads + head) * capacity);
    }
    this.tokenCounts[layer] = tokenCount;
    this.steps[layer] = step + 1;
  }

  /** Window maximum of (layer, head, token); 0 for a token never observed. */
  windowMax(layer: number, head: number, token: number): number {
    const values = this.values[layer] as Float32Array;
    const capacity = this.capacity(layer);
    const slotStride = this.kvHeads * capacity;
    let maximum = 0;
    for (let index = head * capacity + token; index < values.length; index += slotStride) {
      const value = values[index] as number;
      if (value > maximum) maximum = value;
    }
    return maximum;
  }

  /** Maximum of windowMax over all KV heads (for groups that span every head of a layer). */
  windowMaxOverHeads(layer: number, token: number): number {
    // Rows are (slot, head) in turn, each `capacity` long: every row's entry for the token.
    const values = this.values[layer] as Float32Array;
    const capacity = this.capacity(layer);
    let maximum = 0;
    for (let index = token; index < values.length; index += capacity) {
      const value = values[index] as number;
      if (value > maximum) maximum = value;
    }
    return maximum;
  }

  /**
   * windowMax (per KV head, group-major: out[token · kvHeads + head]) or, with `overHeads`, windowMaxOverHeads
   * (out[token]) for tokens [0, tokenCount) at once: one sequential pass per ring row instead of a strided walk per
   * token (what `decide` reads for every group). Equal to the per-token methods.
   */
  windowMaxima(layer: number, overHeads: boolean, out: Float32Array, tokenCount: number): void {
    this.checkLayer(layer);
    const kvHeads = this.kvHeads;
    const capacity = this.capacity(layer);
    const width = overHeads ? tokenCount : tokenCount * kvHeads;
    if (!Number.isInteger(tokenCount) || tokenCount < 0 || tokenCount > capacity || out.length < width) {
      throw new QaqError('shape-mismatch', 'window maxima: the token count or the output does not fit', {
        details: { layer, tokenCount, capacity, outLength: out.length },
      });
    }
    const values = this.values[layer] as Float32Array;
    out.fill(0, 0, width);
    for (let row = 0, start = 0; start < values.length; row += 1, start += capacity) {
      if (overHeads) {
        for (let token = 0; token < tokenCount; token += 1) {
          const value = values[start + token] as number;
          if (value > (out[token] as number)) out[token] = value;
        }
      } else {
        const head = row % kvHeads;
        for (let token = 0, target = head; token < tokenCount; token += 1, target += kvHeads) {
          const value = values[start + token] as number;
          if (value > (out[target] as number)) out[target] = value;
        }
      }
    }
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
    const values = this.values[layer] as Float32Array;
    const capacity = this.capacity(layer);
    for (let row = 0; row < this.window * this.kvHeads; row += 1) {
      values.copyWithin(row * capacity, row * capacity + count, row * capacity + tokenCount);
    }
    (this.firstSteps[layer] as Float64Array).copyWithin(0, count, tokenCount);
    this.tokenCounts[layer] = tokenCount - count;
  }

  /** Bytes held by the ring buffers (for memory reporting). */
  byteLength(): number {
    let total = this.tokenCounts.byteLength + this.steps.byteLength;
    for (const array of this.values) total += array.byteLength;
    for (const array of this.firstSteps) total += array.byteLength;
    return total;
  }

  private ensureCapacity(layer: number, tokenCount: number): void {
    const oldCapacity = this.capacity(layer);
    if (tokenCount <= oldCapacity) return;
    let capacity = oldCapacity;
    while (capacity < tokenCount) capacity *= 2;
    const rows = this.window * this.kvHeads;
    const oldValues = this.values[layer] as Float32Array;
    const values = new Float32Array(capacity * rows);
    const live = this.tokenCounts[layer] ?? 0;
    for (let row = 0; row < rows; row += 1) values.set(oldValues.subarray(row * oldCapacity, row * oldCapacity + live), row * capacity);
    const firstSteps = new Float64Array(capacity);
    firstSteps.set((this.firstSteps[layer] as Float64Array).subarray(0, live));
    this.values[layer] = values;
    this.firstSteps[layer] = firstSteps;
  }

  /** Tokens the layer's buffers hold room for. */
  private capacity(layer: number): number {
    return (this.firstSteps[layer] as Float64Array).length;
  }

  private checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers) {
      throw new QaqError('invalid-layer', 'layer out of range', { details: { layer, layers: this.layers } });
    }
  }
}
