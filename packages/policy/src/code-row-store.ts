import { QaqError } from '@qaq/errors';
import type { AttentionStatistics, AttentionStatisticsOptions } from './attention-statistics.js';
import { maximumAlong, rowMaxima } from './code-rows.js';
import { encodeProbability, validateProbabilities } from './stored-probability.js';

/**
 * What both attention stores share: per layer, rows of `capacity` 8-bit probability codes (stored-probability.ts) (code-rows.ts), where row
 * r belongs to KV head r % kvHeads (or to every head, merged); the reads over them; and the checks that keep bad
 * input from changing anything.
 */
export abstract class CodeRowStore implements AttentionStatistics {
  readonly layers: number;
  readonly kvHeads: number;
  readonly window: number;
  readonly mergeHeads: boolean;
  /** Rows per step slot: 1 with mergeHeads, else kvHeads. */
  protected readonly headRows: number;
  protected readonly tokenCounts: Int32Array;
  /** The float32 bit patterns of the last probabilities' buffer: one view per buffer, reused across steps. */
  private bitsView: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

  constructor(layers: number, kvHeads: number, window: number, options: AttentionStatisticsOptions) {
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.window = window;
    this.mergeHeads = options.mergeHeads ?? false;
    this.headRows = this.mergeHeads ? 1 : kvHeads;
    this.tokenCounts = new Int32Array(layers);
  }

  abstract observationCount(layer: number, token: number): number;
  abstract observe(layer: number, probabilities: Float32Array, tokenCount: number, offset?: number, headStride?: number): void;
  abstract evictOldest(layer: number, count: number): void;
  abstract byteLength(): number;
  abstract liveByteLength(): number;
  /** The layer's rows of codes. */
  protected abstract rows(layer: number): Uint8Array;
  /** Tokens each of the layer's rows has room for. */
  protected abstract capacity(layer: number): number;

  tokenCount(layer: number): number {
    this.checkLayer(layer);
    return this.tokenCounts[layer] ?? 0;
  }

  hasFullWindow(layer: number, token: number): boolean {
    return this.observationCount(layer, token) >= this.window;
  }

  windowMax(layer: number, head: number, token: number): number {
    this.checkLayer(layer);
    this.checkPerHead();
    const capacity = this.capacity(layer);
    return maximumAlong(this.rows(layer), head * capacity + token, this.kvHeads * capacity);
  }

  windowMaxOverHeads(layer: number, token: number): number {
    this.checkLayer(layer);
    return maximumAlong(this.rows(layer), token, this.capacity(layer));
  }

  windowMaxima(layer: number, overHeads: boolean, out: Float32Array, tokenCount: number): void {
    this.checkLayer(layer);
    if (!overHeads) this.checkPerHead();
    const capacity = this.capacity(layer);
    const width = overHeads ? tokenCount : tokenCount * this.kvHeads;
    if (!Number.isInteger(tokenCount) || tokenCount < 0 || tokenCount > capacity || out.length < width) {
      throw new QaqError('shape-mismatch', 'window maxima: the token count or the output does not fit', {
        details: { layer, tokenCount, capacity, outLength: out.length },
      });
    }
    rowMaxima(this.rows(layer), capacity, this.kvHeads, overHeads, out, tokenCount);
  }

  /** Checks a step before anything is recorded; returns the layer's previous token count. */
  protected checkObservation(layer: number, probabilities: Float32Array, tokenCount: number, offset: number, headStride: number): number {
    this.checkLayer(layer);
    const previous = this.tokenCounts[layer] ?? 0;
    if (!Number.isInteger(tokenCount) || tokenCount < previous || tokenCount < 1) {
      throw new QaqError('token-count-mismatch', 'token count must be ≥ the previous count (evict first)', {
        details: { layer, tokenCount, previous },
      });
    }
    validateProbabilities(layer, this.kvHeads, probabilities, tokenCount, offset, headStride);
    return previous;
  }

  /**
   * Raises rows[first + r · capacity + token] to each token's probability code for this step, r the KV head (or one
   * row, the maximum over heads, with mergeHeads): a running maximum, or a ring slot's value once that slot is zeroed.
   */
  protected recordStep(
    rows: Uint8Array,
    first: number,
    capacity: number,
    probabilities: Float32Array,
    tokenCount: number,
    offset: number,
    headStride: number,
  ): void {
    if (this.bitsView.buffer !== probabilities.buffer) {
      this.bitsView = new Uint32Array(probabilities.buffer, 0, probabilities.buffer.byteLength >>> 2);
    }
    const bits = this.bitsView;
    const start = (probabilities.byteOffset >>> 2) + offset;
    if (this.mergeHeads) {
      for (let token = 0; token < tokenCount; token += 1) {
        let code = rows[first + token] as number;
        for (let head = 0, index = start + token; head < this.kvHeads; head += 1, index += headStride) {
          const headCode = encodeProbability(bits[index] as number);
          if (headCode > code) code = headCode;
        }
        rows[first + token] = code;
      }
      return;
    }
    for (let head = 0; head < this.kvHeads; head += 1) {
      const source = start + head * headStride;
      const target = first + head * capacity;
      for (let token = 0; token < tokenCount; token += 1) {
        const code = encodeProbability(bits[source + token] as number);
        if (code > (rows[target + token] as number)) rows[target + token] = code;
      }
    }
  }

  /** Checks an eviction; returns the layer's token count before it. */
  protected checkEviction(layer: number, count: number): number {
    this.checkLayer(layer);
    const tokenCount = this.tokenCounts[layer] ?? 0;
    if (!Number.isInteger(count) || count < 0 || count > tokenCount) {
      throw new QaqError('invalid-eviction', 'evict count must be in 0..tokenCount', {
        details: { layer, count, tokenCount },
      });
    }
    return tokenCount;
  }

  /** Live tokens over all layers. */
  protected liveTokens(): number {
    let tokens = 0;
    for (let layer = 0; layer < this.layers; layer += 1) tokens += this.tokenCounts[layer] ?? 0;
    return tokens;
  }

  protected checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers) {
      throw new QaqError('invalid-layer', 'layer out of range', { details: { layer, layers: this.layers } });
    }
  }

  private checkPerHead(): void {
    if (this.mergeHeads) {
      throw new QaqError('heads-merged', 'per-head maxima are not kept with mergeHeads; read windowMaxOverHeads');
    }
  }
}
