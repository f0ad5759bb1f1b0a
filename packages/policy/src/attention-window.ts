import { QaqError } from '@qaq/errors';

/**
 * Per layer, per KV head and token: the maximum of the token's attention probability over the last
 * `window` observed steps. Storage is one ring of `window` slots per (token, head), indexed by a
 * per-layer step counter, so an observation writes one slot and never moves the others.
 * Buffers are allocated once per layer and grown by doubling; eviction shifts with copyWithin.
 */
export class AttentionWindow {
  readonly layers: number;
  readonly kvHeads: number;
  readonly window: number;
  private readonly values: Float32Array[] = [];
  /** Observations per token, saturating at `window`. */
  private readonly observations: Uint8Array[] = [];
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
      this.observations.push(new Uint8Array(capacity));
    }
  }

  tokenCount(layer: number): number {
    this.checkLayer(layer);
    return this.tokenCounts[layer] ?? 0;
  }

  /** Tokens with at least `window` observations have a full window. */
  hasFullWindow(layer: number, token: number): boolean {
    return (this.observations[layer]?.[token] ?? 0) >= this.window;
  }

  observationCount(layer: number, token: number): number {
    return this.observations[layer]?.[token] ?? 0;
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
      for (let token = 0; token < tokenCount; token += 1) {
        const index = offset + head * headStride + token;
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
    const observations = this.observations[layer] as Uint8Array;
    const stride = this.kvHeads * this.window;
    // New tokens start with an empty (all-zero) ring: zero is below every real probability.
    values.fill(0, previous * stride, tokenCount * stride);
    observations.fill(0, previous, tokenCount);
    const slot = (this.steps[layer] ?? 0) % this.window;
    for (let head = 0; head < this.kvHeads; head += 1) {
      const rowOffset = offset + head * headStride;
      for (let token = 0; token < tokenCount; token += 1) {
        values[token * stride + head * this.window + slot] = probabilities[rowOffset + token] as number;
      }
    }
    for (let token = 0; token < tokenCount; token += 1) {
      const count = observations[token] as number;
      if (count < this.window) observations[token] = count + 1;
    }
    this.tokenCounts[layer] = tokenCount;
    this.steps[layer] = (this.steps[layer] ?? 0) + 1;
  }

  /** Window maximum of (layer, head, token); 0 for a token never observed. */
  windowMax(layer: number, head: number, token: number): number {
    const values = this.values[layer] as Float32Array;
    const base = token * this.kvHeads * this.window + head * this.window;
    let maximum = 0;
    for (let slot = 0; slot < this.window; slot += 1) {
      const value = values[base + slot] as number;
      if (value > maximum) maximum = value;
    }
    return maximum;
  }

  /** Maximum of windowMax over all KV heads (for groups that span every head of a layer). */
  windowMaxOverHeads(layer: number, token: number): number {
    // A token's rings of every head are contiguous: one pass over kvHeads · window slots.
    const values = this.values[layer] as Float32Array;
    const stride = this.kvHeads * this.window;
    const end = (token + 1) * stride;
    let maximum = 0;
    for (let index = token * stride; index < end; index += 1) {
      const value = values[index] as number;
      if (value > maximum) maximum = value;
    }
    return maximum;
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
    const stride = this.kvHeads * this.window;
    (this.values[layer] as Float32Array).copyWithin(0, count * stride, tokenCount * stride);
    (this.observations[layer] as Uint8Array).copyWithin(0, count, tokenCount);
    this.tokenCounts[layer] = tokenCount - count;
  }

  /** Bytes held by the ring buffers (for memory reporting). */
  byteLength(): number {
    let total = this.tokenCounts.byteLength + this.steps.byteLength;
    for (const array of this.values) total += array.byteLength;
    for (const array of this.observations) total += array.byteLength;
    return total;
  }

  private ensureCapacity(layer: number, tokenCount: number): void {
    const observations = this.observations[layer] as Uint8Array;
    if (tokenCount <= observations.length) return;
    let capacity = observations.length;
    while (capacity < tokenCount) capacity *= 2;
    const values = new Float32Array(capacity * this.kvHeads * this.window);
    values.set(this.values[layer] as Float32Array);
    const grownObservations = new Uint8Array(capacity);
    grownObservations.set(observations);
    this.values[layer] = values;
    this.observations[layer] = grownObservations;
  }

  private checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers) {
      throw new QaqError('invalid-layer', 'layer out of range', { details: { layer, layers: this.layers } });
    }
  }
}
