import type { ReportRecord } from './report-record.js';

/** The quality bars issue #5 sets, measured on text the presets were not tuned on. */
export const evaluationBars = {
  maximumBitsPerElement: 3.2,
  maximumKlMean: 0.02,
  minimumTop1Agreement: 0.95,
  tokens: 8192,
  context: 2048,
  /** Baselines a QAQ preset must beat (lower kl_mean) at equal or fewer bits per element. */
  baselines: ['kivi:2', 'uniform:4', 'ort-int4'],
} as const;

export type BarVerdict = 'PASS' | 'FAIL' | 'NOT MEASURED';

export interface BarResult {
  readonly name: string;
  readonly verdict: BarVerdict;
  /** The figures behind the verdict, one sentence. */
  readonly figures: string;
}

/** QAQ's named presets (`qaq` is the quality preset): the bars are about them, not about hand-picked sk/sv points. */
export function isQaqPreset(method: string): boolean {
  return method === 'qaq' || /^qaq:[a-z]+$/.test(method);
}

const percent = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;
const describe = (record: ReportRecord): string =>
  `${record.method}: ${record.bits_per_element.toFixed(2)} bits/element, kl_mean ${record.kl_mean.toPrecision(3)}, top-1 ${percent(record.top1_agreement)}`;

/** The preset bar: a QAQ preset at ≤ 3.2 bits/element with kl_mean ≤ 0.02 and top-1 ≥ 95%. */
export function presetBar(records: readonly ReportRecord[]): BarResult {
  const name = `a QAQ preset at ≤ ${evaluationBars.maximumBitsPerElement} bits/element (≥ 5× vs fp16) with kl_mean ≤ ${evaluationBars.maximumKlMean} and top-1 ≥ ${percent(evaluationBars.minimumTop1Agreement)}`;
  const presets = records.filter((record) => isQaqPreset(record.method));
  if (presets.length === 0) return { name, verdict: 'NOT MEASURED', figures: 'no QAQ preset was evaluated' };
  const passing = presets.filter(
    (record) =>
      record.bits_per_element <= evaluationBars.maximumBitsPerElement &&
      record.kl_mean <= evaluationBars.maximumKlMean &&
      record.top1_agreement >= evaluationBars.minimumTop1Agreement,
  );
  return { name, verdict: passing.length > 0 ? 'PASS' : 'FAIL', figures: (passing.length > 0 ? passing : presets).map(describe).join('; ') };
}

/**
 * One baseline bar: some QAQ preset has a lower kl_mean than `baseline` at equal or fewer bits per element.
 * `failedMethods`: the methods the sweep ran and lost, so a missing baseline says whether it failed or was not run.
 */
export function baselineBar(records: readonly ReportRecord[], baseline: string, failedMethods: readonly string[] = []): BarResult {
  const name = `QAQ lower kl_mean than \`${baseline}\` at equal or fewer bits/element`;
  const reference = records.find((record) => record.method === baseline);
  const presets = records.filter((record) => isQaqPreset(record.method));
  if (reference === undefined) {
    const why = failedMethods.includes(baseline) ? 'its run failed (see failures)' : "it was not among this sweep's methods";
    return { name, verdict: 'NOT MEASURED', figures: `${baseline} was not evaluated: ${why}` };
  }
  if (presets.length === 0) return { name, verdict: 'NOT MEASURED', figures: 'no QAQ preset was evaluated' };
  const winners = presets.filter(
    (record) => record.bits_per_element <= reference.bits_per_element && record.kl_mean < reference.kl_mean,
  );
  const shown = winners.length > 0 ? winners : presets;
  return {
    name,
    verdict: winners.length > 0 ? 'PASS' : 'FAIL',
    figures: `${describe(reference)} vs ${shown.map(describe).join('; ')}`,
  };
}

/** Where the measurement differs from the size the bars ask for (8k tokens, context 2048), one sentence; '' when not. */
export function measurementSizeNote(records: readonly ReportRecord[]): string {
  const presets = records.filter((record) => isQaqPreset(record.method));
  const sized = presets.length > 0 ? presets : records;
  const notes = new Set<string>();
  for (const record of sized) {
    if (record.tokens < evaluationBars.tokens || record.context !== evaluationBars.context) {
      notes.add(`${record.method} was measured on ${record.tokens} tokens at context ${record.context}`);
    }
  }
  if (notes.size === 0) return '';
  return `The bars ask for ${evaluationBars.tokens} tokens at context ${evaluationBars.context}; ${[...notes].join(', ')}.`;
}

export function evaluateBars(records: readonly ReportRecord[], failedMethods: readonly string[] = []): BarResult[] {
  return [presetBar(records), ...evaluationBars.baselines.map((baseline) => baselineBar(records, baseline, failedMethods))];
}
