import { QaqError } from '@qaq/errors';
import { RelativeErrorQuantile } from './relative-error-quantile.js';
import type { QueryNormSource, QueryNormTableJson } from './query-norms.js';

export interface OnlineQueryNormOptions {
  readonly layers: number;
  readonly kvHeads: number;
  /** Query heads per layer; a multiple of kvHeads. Query head h uses KV head floor(h / (queryHeads / kvHeads)). */
  readonly queryHeads: number;
  readonly headDim: number;
  /** Score scale c; norms are of c·q. */
  readonly scoreScale: number;
  /** Default 0.9 (the paper's 90th percentile). */
  readonly quantile?: number;
  /** Relative error of each estimate (see RelativeErrorQuantile). Default 0.005. */
  readonly relativeAccuracy?: number;
}

/**
 * ‖q̃‖² tracked online: one relative-error quantile sketch per (layer, KV head), fed with the squared
 * scaled norm of every query head mapped to that KV head. Each estimate is within `relativeAccuracy` of the
 * true order statistic whatever the order of the queries (a prompt's first tokens often have odd norms).
 * Bounded memory (a few KiB per estimator), O(D) per query head.
 */
export class OnlineQueryNormQuantile implements QueryNormSource {
  readonly layers: number;
  readonly kvHeads: number;
  readonly queryHeads: number;
  readonly headDim: number;
  readonly scoreScale: number;
  readonly quantile: number;
  private readonly estimators: RelativeErrorQuantile[] = [];

  constructor(options: OnlineQueryNormOptions) {
    const { layers, kvHeads, queryHeads, headDim, scoreScale } = options;
    const quantile = options.quantile ?? 0.9;
    const relativeAccuracy = options.relativeAccuracy ?? 0.005;
    const positive = (value: number): boolean => Number.isInteger(value) && value >= 1;
    if (!positive(layers) || !positive(kvHeads) || !positive(queryHeads) || !positive(headDim) || queryHeads % kvHeads !== 0) {
      throw new QaqError('invalid-query-norm-config', 'layers, heads and headDim must be positive; queryHeads a multiple of kvHeads', {
        details: { layers, kvHeads, queryHeads, headDim },
      });
    }
    if (!(Number.isFinite(scoreScale) && scoreScale > 0)) {
      throw new QaqError('invalid-query-norm-config', 'scoreScale must be finite and > 0', { details: { scoreScale } });
    }
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.queryHeads = queryHeads;
    this.headDim = headDim;
    this.scoreScale = scoreScale;
    this.quantile = quantile;
    for (let index = 0; index < layers * kvHeads; index += 1) this.estimators.push(new RelativeErrorQuantile(quantile, { relativeAccuracy }));
  }

  /** Feeds one step's queries of a layer, [queryHeads, headDim] (or several steps: [steps, queryHeads, headDim]). */
  observe(layer: number, queries: Float32Array): void {
    const rowLength = this.queryHeads * this.headDim;
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers) {
      throw new QaqError('invalid-layer', 'layer out of range', { details: { layer, layers: this.layers } });
    }
    if (queries.length === 0 || queries.length % rowLength !== 0) {
      throw new QaqError('shape-mismatch', 'queries must be [steps, queryHeads, headDim]', {
        details: { length: queries.length, rowLength },
      });
    }
    for (let index = 0; index < queries.length; index += 1) {
      if (!Number.isFinite(queries[index])) {
        throw new QaqError('non-finite-input', 'queries contain NaN or Inf', { details: { layer, index } });
      }
    }
    const groupSize = this.queryHeads / this.kvHeads;
    const scaleSquared = this.scoreScale * this.scoreScale;
    for (let offset = 0; offset < queries.length; offset += this.headDim) {
      let sum = 0;
      for (let element = 0; element < this.headDim; element += 1) {
        const value = queries[offset + element] as number;
        sum += value * value;
      }
      const queryHead = (offset / this.headDim) % this.queryHeads;
      const kvHead = Math.floor(queryHead / groupSize);
      (this.estimators[layer * this.kvHeads + kvHead] as RelativeErrorQuantile).add(sum * scaleSquared);
    }
  }

  observationCount(layer: number, kvHead: number): number {
    return this.estimator(layer, kvHead).count;
  }

  squaredScaledNorm(layer: number, kvHead: number): number {
    const estimator = this.estimator(layer, kvHead);
    const value = estimator.value();
    if (!(value > 0)) {
      throw new QaqError('query-norm-unavailable', 'no query observed yet for this layer and KV head', {
        details: { layer, kvHead, count: estimator.count },
      });
    }
    return value;
  }

  /** Freezes the current estimates into a calibration table (for CalibratedQueryNorms). */
  toTable(): QueryNormTableJson {
    const values: number[][] = [];
    for (let layer = 0; layer < this.layers; layer += 1) {
      const row: number[] = [];
      for (let kvHead = 0; kvHead < this.kvHeads; kvHead += 1) row.push(this.squaredScaledNorm(layer, kvHead));
      values.push(row);
    }
    return {
      format: 'qaq-query-norms',
      version: 1,
      quantile: this.quantile,
      scoreScale: this.scoreScale,
      layers: this.layers,
      kvHeads: this.kvHeads,
      values,
    };
  }

  private estimator(layer: number, kvHead: number): RelativeErrorQuantile {
    const estimator = this.estimators[layer * this.kvHeads + kvHead];
    if (estimator === undefined || !Number.isInteger(layer) || !Number.isInteger(kvHead) || kvHead < 0 || kvHead >= this.kvHeads) {
      throw new QaqError('invalid-layer', 'layer or KV head out of range', { details: { layer, kvHead } });
    }
    return estimator;
  }
}
