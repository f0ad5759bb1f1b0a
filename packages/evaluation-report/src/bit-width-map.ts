import { QaqError } from '@qaq/errors';
import type { TopLevelSpec } from 'vega-lite';

/**
 * QAQ's bit width per layer and token position at the end of one evaluation: `keyBits[layer][position]`,
 * `valueBits[layer][position]`, NaN (null in JSON) where the layer no longer holds the position (sliding window).
 */
export interface BitWidthMap {
  readonly layers: number;
  readonly tokens: number;
  readonly keyBits: readonly (readonly number[])[];
  readonly valueBits: readonly (readonly number[])[];
}

function invalid(message: string, details: Record<string, unknown>): never {
  throw new QaqError('invalid-bit-width-map', message, { details });
}

/** A held position's width, or null / NaN for one the layer no longer holds; never ±Infinity. */
const isBitWidth = (bits: unknown): boolean => bits === null || (typeof bits === 'number' && (Number.isFinite(bits) || Number.isNaN(bits)));

/** Checks the shape (layers × tokens of numbers, null for a position not held); throws QaqError 'invalid-bit-width-map'. */
export function parseBitWidthMap(value: unknown): BitWidthMap {
  if (typeof value !== 'object' || value === null) return invalid('a bit-width map must be a JSON object', { value });
  const map = value as Record<string, unknown>;
  const layers = map['layers'];
  const tokens = map['tokens'];
  if (typeof layers !== 'number' || !Number.isSafeInteger(layers) || layers < 1) return invalid('layers must be a positive integer', { layers });
  if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens < 1) return invalid('tokens must be a positive integer', { tokens });
  const grids = (['keyBits', 'valueBits'] as const).map((kind) => {
    const rows = map[kind];
    if (!Array.isArray(rows) || rows.length !== layers) {
      return invalid(`${kind} must hold one row per layer`, { kind, layers, rows: Array.isArray(rows) ? rows.length : typeof rows });
    }
    return rows.map((row: unknown, layer) => {
      if (!Array.isArray(row) || row.length !== tokens || !row.every(isBitWidth)) {
        return invalid(`${kind}[${layer}] must hold ${tokens} numbers (null where not held)`, { kind, layer, length: Array.isArray(row) ? row.length : typeof row });
      }
      return row.map((bits: number | null) => (bits === null ? Number.NaN : bits));
    });
  });
  return { layers, tokens, keyBits: grids[0]!, valueBits: grids[1]! };
}

/**
 * Converts what `qaq eval --heatmap <file>` writes (`{ maps: [{ method, tokens, layers: [{ layer, first_position,
 * keys, values }] }] }`, one map per compact-cache method, each layer holding the positions it still caches) into a
 * layers × positions grid for `method` (default: the first map). Positions a layer dropped are NaN.
 */
export function bitWidthMapFromEvaluation(value: unknown, method?: string): { method: string; map: BitWidthMap } {
  const file = value as { maps?: unknown };
  const maps = Array.isArray(file?.maps) ? (file.maps as unknown[]) : [value];
  const chosen = (method === undefined ? maps[0] : maps.find((entry) => (entry as { method?: unknown })?.method === method)) as
    | { method?: unknown; tokens?: unknown; layers?: unknown }
    | undefined;
  if (chosen === undefined) return invalid(`no bit-width map for ${method ?? 'any method'}`, { method, methods: maps.map((entry) => (entry as { method?: unknown })?.method) });
  const tokens = chosen.tokens;
  const layers = chosen.layers;
  if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens < 1 || !Array.isArray(layers) || layers.length === 0) {
    return invalid('an evaluation bit-width map needs tokens and layers', { tokens, layers: Array.isArray(layers) ? layers.length : typeof layers });
  }
  const keyBits: number[][] = [];
  const valueBits: number[][] = [];
  for (const entry of layers as { first_position?: unknown; keys?: unknown; values?: unknown }[]) {
    const first = entry.first_position;
    const keys = entry.keys;
    const values = entry.values;
    if (typeof first !== 'number' || !Array.isArray(keys) || !Array.isArray(values) || keys.length !== values.length || first + keys.length > tokens) {
      return invalid('each layer needs first_position, and keys and values of one length within tokens', { first, keys: Array.isArray(keys) ? keys.length : typeof keys });
    }
    const keyRow = new Array<number>(tokens).fill(Number.NaN);
    const valueRow = new Array<number>(tokens).fill(Number.NaN);
    keys.forEach((bits: number, index) => (keyRow[first + index] = bits));
    values.forEach((bits: number, index) => (valueRow[first + index] = bits));
    keyBits.push(keyRow);
    valueBits.push(valueRow);
  }
  const name = typeof chosen.method === 'string' ? chosen.method : (method ?? 'qaq');
  return { method: name, map: parseBitWidthMap({ layers: keyBits.length, tokens, keyBits, valueBits }) };
}

export interface BitWidthCell {
  readonly kind: 'keys' | 'values';
  readonly layer: number;
  /** First and one-past-last token position of the cell. */
  readonly start: number;
  readonly end: number;
  /** Mean bit width over the cell's positions the layer still holds. */
  readonly bits: number;
}

/**
 * Averages each layer's row into at most `maximumColumns` equal runs of positions, so a long text stays a
 * readable (and small) SVG; with fewer tokens than that, every position is its own cell.
 */
export function bitWidthCells(map: BitWidthMap, maximumColumns = 128): BitWidthCell[] {
  const width = Math.ceil(map.tokens / maximumColumns);
  const cells: BitWidthCell[] = [];
  for (const [kind, rows] of [
    ['keys', map.keyBits],
    ['values', map.valueBits],
  ] as const) {
    rows.forEach((row, layer) => {
      for (let start = 0; start < map.tokens; start += width) {
        const end = Math.min(start + width, map.tokens);
        let sum = 0;
        let held = 0;
        for (let position = start; position < end; position++) {
          const bits = row[position]!;
          if (Number.isNaN(bits)) continue;
          sum += bits;
          held++;
        }
        // A run of positions the layer dropped (sliding window) is left blank.
        if (held > 0) cells.push({ kind, layer, start, end, bits: sum / held });
      }
    });
  }
  return cells;
}

/**
 * Heatmap of bit widths, token position × layer, keys above values, one colour scale for both. The scale stops at
 * 8 bits so that the fp16 recent window (16) does not flatten the 1–8-bit range the policy chooses from.
 */
export function bitWidthHeatmapSpec(map: BitWidthMap, title: string, maximumColumns = 128): TopLevelSpec {
  const cells = bitWidthCells(map, maximumColumns);
  const width = Math.ceil(map.tokens / maximumColumns);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title,
      subtitle: width > 1 ? `each cell: mean bit width over ${width} consecutive positions` : 'each cell: one position',
    },
    background: 'white',
    config: { font: 'DejaVu Sans', view: { stroke: null } },
    data: { values: cells },
    facet: { row: { field: 'kind', type: 'nominal', title: null, sort: ['keys', 'values'] } },
    spec: {
      width: 720,
      height: Math.max(120, map.layers * 8),
      mark: { type: 'rect', aria: false },
      encoding: {
        x: { field: 'start', type: 'quantitative', title: 'token position', scale: { domain: [0, map.tokens], nice: false } },
        x2: { field: 'end' },
        y: { field: 'layer', type: 'ordinal', title: 'layer', axis: { labelExpr: 'datum.value % 5 === 0 ? datum.label : ""' } },
        color: {
          field: 'bits',
          type: 'quantitative',
          title: 'bits (8 = 8 or more, e.g. the fp16 window)',
          scale: { scheme: 'viridis', domain: [1, 8], clamp: true },
          legend: { titleLimit: 400, orient: 'bottom' },
        },
      },
    },
  } as TopLevelSpec;
}
