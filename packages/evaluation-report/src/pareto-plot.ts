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

/**
 * Bits per element against a quality loss, one point per method labelled with its name, the Pareto front (fewest
 * bits for the least loss, computed by `paretoFront`) drawn as a step line. The y axis is logarithmic (KL) or
 * symmetric-log (Δppl, which can be negative) so that near-zero losses (fp16) and large ones (2-bit uniform) both read.
 */
export function paretoPlotSpec(records: readonly ReportRecord[], options: ParetoPlotOptions): TopLevelSpec {
  const placed = records.filter((record) => Number.isFinite(record.bits_per_element) && Number.isFinite(options.loss(record)));
  const front = new Set(paretoFront(placed, (record) => ({ x: record.bits_per_element, y: options.loss(record) })));
  const values = placed.map((record) => ({
    method: record.method,
    family: methodFamily(record.method),
    bits: record.bits_per_element,
    loss: options.loss(record),
    // A log axis cannot show 0 (fp32 against itself): such points sit on the floor, labelled with their value.
    plotted: options.logarithmic ? Math.max(options.loss(record), logarithmicFloor) : options.loss(record),
    front: front.has(record) ? 'Pareto front' : 'dominated',
    label: `${record.method} (${lossLabel(options.loss(record))})`,
  }));
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
      {
        data: { values },
        mark: { type: 'text', align: 'left', dx: 7, dy: -6, fontSize: 10 },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      },
    ],
  } as TopLevelSpec;
}
