import type { TopLevelSpec } from 'vega-lite';
import { paretoFront } from './pareto-front.js';
import { methodFamily, type ReportRecord } from './report-record.js';

export interface ParetoPlotOptions {
  readonly title: string;
  /** The quality loss on the y axis (lower is better). */
  readonly lossLabel: string;
  readonly loss: (record: ReportRecord) => number;
  /** Log y axis (losses ≥ 0, e.g. KL) rather than symmetric-log (losses of either sign, e.g. Δppl). */
  readonly logarithmic: boolean;
}

const lossLabel = (loss: number): string => (loss !== 0 && Math.abs(loss) < 0.001 ? loss.toExponential(1) : loss.toPrecision(2));

/** Smallest loss a log axis shows; smaller ones (exact zeros included) are drawn there. */
export const logarithmicFloor = 1e-6;

/** Tick values 0 and ±10^k (from ±0.01) reaching just past the losses, for a symmetric-log axis (its own ticks are unreadable). */
export function symmetricLogTicks(losses: readonly number[]): number[] {
  const finite = losses.filter(Number.isFinite);
  const highest = Math.max(0, ...finite);
  const lowest = Math.min(0, ...finite);
  const ticks = [0];
  for (let exponent = -2; 10 ** (exponent - 1) < highest; exponent++) ticks.push(Number((10 ** exponent).toPrecision(1)));
  for (let exponent = -2; 10 ** (exponent - 1) < -lowest; exponent++) ticks.unshift(-Number((10 ** exponent).toPrecision(1)));
  return ticks;
}

interface PlottedPoint {
  readonly method: string;
  readonly family: string;
  readonly bits: number;
  readonly loss: number;
  readonly plotted: number;
  readonly front: string;
  readonly label: string;
  labelPlace: 'above' | 'below' | 'left' | 'right';
}

/**
 * Puts each label above its point, else below, left or right of it, wherever it overlaps the fewest labels already
 * placed (ties keep that order). Overlap is judged in approximate pixels of the 640 × 420 chart: 6 px per
 * character of the 10 px font, 12 px of height.
 */
function placeLabels(points: PlottedPoint[], logarithmic: boolean): void {
  const transform = (value: number): number =>
    logarithmic ? Math.log10(value) : Math.sign(value) * Math.log10(1 + Math.abs(value) / 0.01);
  const heights = points.map((point) => transform(point.plotted));
  const lowest = Math.min(...heights);
  const highest = Math.max(...heights);
  const pixelsPerUnit = 420 / Math.max(highest - lowest, 1e-9);
  const pixelsPerBit = 640 / Math.max(...points.map((point) => point.bits), 1);
  interface Box {
    readonly left: number;
    readonly right: number;
    readonly top: number;
    readonly bottom: number;
  }
  const placed: Box[] = [];
  const overlaps = (box: Box): number =>
    placed.filter((other) => box.left < other.right && other.left < box.right && box.top < other.bottom && other.top < box.bottom).length;
  for (const point of [...points].sort((a, b) => a.bits - b.bits)) {
    const x = point.bits * pixelsPerBit;
    const y = (highest - transform(point.plotted)) * pixelsPerUnit;
    const width = 6 * point.label.length;
    const candidates = [
      { place: 'above', box: { left: x + 7, right: x + 7 + width, top: y - 17, bottom: y - 5 } },
      { place: 'below', box: { left: x + 7, right: x + 7 + width, top: y + 1, bottom: y + 13 } },
      { place: 'left', box: { left: x - 7 - width, right: x - 7, top: y - 6, bottom: y + 6 } },
      { place: 'right', box: { left: x + 9, right: x + 9 + width, top: y - 3, bottom: y + 9 } },
    ] as const;
    let best: (typeof candidates)[number] = candidates[0];
    for (const candidate of candidates) if (overlaps(candidate.box) < overlaps(best.box)) best = candidate;
    point.labelPlace = best.place;
    placed.push(best.box);
  }
}

/**
 * Bits per element against a quality loss, one point per method labelled with its name, the Pareto front (fewest
 * bits for the least loss, computed by `paretoFront`) drawn as a step line. The y axis is logarithmic (KL) or
 * symmetric-log (Δppl, which can be negative) so that near-zero losses (fp16) and large ones (2-bit uniform) both read.
 */
export function paretoPlotSpec(records: readonly ReportRecord[], options: ParetoPlotOptions): TopLevelSpec {
  const placed = records.filter((record) => Number.isFinite(record.bits_per_element) && Number.isFinite(options.loss(record)));
  const front = new Set(paretoFront(placed, (record) => ({ x: record.bits_per_element, y: options.loss(record) })));
  const values: PlottedPoint[] = placed.map((record) => ({
    method: record.method,
    family: methodFamily(record.method),
    bits: record.bits_per_element,
    loss: options.loss(record),
    // A log axis cannot show 0 (fp32 against itself): such points sit on the floor, labelled with their value.
    plotted: options.logarithmic ? Math.max(options.loss(record), logarithmicFloor) : options.loss(record),
    front: front.has(record) ? 'Pareto front' : 'dominated',
    label: `${record.method} (${lossLabel(options.loss(record))})`,
    labelPlace: 'above' as const,
  }));
  placeLabels(values, options.logarithmic);
  const frontValues = values.filter((value) => value.front === 'Pareto front');
  const x = { field: 'bits', type: 'quantitative', title: 'bits per element (KV cache, lower = smaller)', scale: { zero: true } } as const;
  const y = options.logarithmic
    ? ({
        field: 'plotted',
        type: 'quantitative',
        title: `${options.lossLabel} (lower = better, log scale)`,
        scale: { type: 'log' },
      } as const)
    : ({
        field: 'plotted',
        type: 'quantitative',
        title: `${options.lossLabel} (lower = better, symmetric log scale)`,
        scale: { type: 'symlog', constant: 0.01 },
        axis: { values: symmetricLogTicks(values.map((value) => value.loss)), format: '~g' },
      } as const);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title, subtitle: 'each point: one KV method; line: the Pareto front' },
    width: 640,
    height: 420,
    background: 'white',
    config: { font: 'DejaVu Sans' },
    layer: [
      {
        data: { values: frontValues },
        mark: { type: 'line', interpolate: 'step-after', color: '#999999', strokeDash: [4, 3] },
        encoding: { x, y },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x,
          y,
          color: { field: 'family', type: 'nominal', title: 'family' },
          shape: { field: 'front', type: 'nominal', title: '' },
        },
      },
      // Each label above, below or left of its point, wherever it overlaps fewest others (placeLabels).
      ...(
        [
          ['above', 'left', 7, -7],
          ['below', 'left', 7, 11],
          ['left', 'right', -7, 4],
          ['right', 'left', 9, 7],
        ] as const
      ).map(([place, align, dx, dy]) => ({
        data: { values },
        transform: [{ filter: `datum.labelPlace === '${place}'` }],
        mark: { type: 'text', align, dx, dy, fontSize: 10 },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      })),
    ],
  } as TopLevelSpec;
}
