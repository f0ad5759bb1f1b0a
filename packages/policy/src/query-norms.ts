import { QaqError } from '@qaq/errors';

/**
 * Source of ‖q̃‖²: a high quantile of squared *scaled* query norms (q̃ = c·q) per layer and KV head.
 * For a KV head shared by several query heads, every one of those query heads' norms counts.
 */
export interface QueryNormSource {
  /** ‖q̃‖² for (layer, kvHead); must be finite and > 0 when the policy asks. */
  squaredScaledNorm(layer: number, kvHead: number): number;
}

/** JSON form of a calibration table. */
export interface QueryNormTableJson {
  readonly format: 'qaq-query-norms';
  readonly version: 1;
  /** The quantile the values are, e.g. 0.9. */
  readonly quantile: number;
  /** The score scale c the norms were scaled with. */
  readonly scoreScale: number;
  readonly layers: number;
  readonly kvHeads: number;
  /** values[layer][kvHead] = quantile of ‖c·q‖². */
  readonly values: readonly (readonly number[])[];
}

/** ‖q̃‖² per (layer, KV head) measured once on calibration text and loaded from JSON. */
export class CalibratedQueryNorms implements QueryNormSource {
  readonly quantile: number;
  readonly scoreScale: number;
  readonly layers: number;
  readonly kvHeads: number;
  private readonly values: Float64Array;

  constructor(table: QueryNormTableJson) {
    CalibratedQueryNorms.validate(table);
    this.quantile = table.quantile;
    this.scoreScale = table.scoreScale;
    this.layers = table.layers;
    this.kvHeads = table.kvHeads;
    this.values = new Float64Array(table.layers * table.kvHeads);
    table.values.forEach((row, layer) => this.values.set(row, layer * table.kvHeads));
  }

  /** Parses and validates JSON text (or an already parsed value). */
  static fromJSON(input: unknown): CalibratedQueryNorms {
    let parsed: unknown = input;
    if (typeof input === 'string') {
      try {
        parsed = JSON.parse(input) as unknown;
      } catch (cause) {
        throw new QaqError('invalid-query-norms', 'query-norm table is not valid JSON', { cause });
      }
    }
    return new CalibratedQueryNorms(parsed as QueryNormTableJson);
  }

  squaredScaledNorm(layer: number, kvHead: number): number {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers || !Number.isInteger(kvHead) || kvHead < 0 || kvHead >= this.kvHeads) {
      throw new QaqError('invalid-layer', 'layer or KV head out of range for the query-norm table', {
        details: { layer, kvHead, layers: this.layers, kvHeads: this.kvHeads },
      });
    }
    return this.values[layer * this.kvHeads + kvHead] as number;
  }

  toJSON(): QueryNormTableJson {
    const values: number[][] = [];
    for (let layer = 0; layer < this.layers; layer += 1) {
      values.push(Array.from(this.values.subarray(layer * this.kvHeads, (layer + 1) * this.kvHeads)));
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

  private static validate(table: QueryNormTableJson): void {
    const fail = (message: string, details: Record<string, unknown>): never => {
      throw new QaqError('invalid-query-norms', message, { details });
    };
    if (typeof table !== 'object' || table === null) fail('table must be an object', { table });
    if (table.format !== 'qaq-query-norms' || table.version !== 1) {
      fail('unknown format or version', { format: table.format, version: table.version });
    }
    if (!(table.quantile > 0 && table.quantile < 1)) fail('quantile must be in (0, 1)', { quantile: table.quantile });
    if (!(Number.isFinite(table.scoreScale) && table.scoreScale > 0)) {
      fail('scoreScale must be finite and > 0', { scoreScale: table.scoreScale });
    }
    if (!Number.isInteger(table.layers) || table.layers < 1 || !Number.isInteger(table.kvHeads) || table.kvHeads < 1) {
      fail('layers and kvHeads must be positive integers', { layers: table.layers, kvHeads: table.kvHeads });
    }
    if (!Array.isArray(table.values) || table.values.length !== table.layers) {
      fail('values must have one row per layer', { rows: Array.isArray(table.values) ? table.values.length : null });
    }
    table.values.forEach((row, layer) => {
      if (!Array.isArray(row) || row.length !== table.kvHeads) fail('each row needs kvHeads values', { layer });
      row.forEach((value, kvHead) => {
        if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
          fail('every ‖q̃‖² must be finite and > 0', { layer, kvHead, value });
        }
      });
    });
  }
}
