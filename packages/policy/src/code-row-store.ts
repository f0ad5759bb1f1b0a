import { QaqError } from '@qaq/errors';
import type { AttentionStatistics, AttentionStatisticsOptions } from './attention-statistics.js';
import { maximumAlong, rowMaxima } from './code-rows.js';
import { validateProbabilities } from './stored-probability.js';

/**
 * What both attention stores share: per layer, rows of `capacity` 16-bit probability codes (code-rows.ts), where row
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
  protected abstract rows(layer: number): Uint16Array;
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
