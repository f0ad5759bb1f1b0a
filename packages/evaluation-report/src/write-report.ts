import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bitWidthHeatmapSpec, type BitWidthMap } from './bit-width-map.js';
import { markdownReport, sortByBits, type ReportDescription } from './markdown-report.js';
import { paretoPlotSpec } from './pareto-plot.js';
import { evaluateBars } from './report-bars.js';
import { deltaPerplexity, type FailedMethod, type ReportRecord } from './report-record.js';
import { renderPng, renderSvg } from './render-chart.js';

export interface EvaluationReportInput extends Omit<ReportDescription, 'heatmapMethod'> {
  readonly records: readonly ReportRecord[];
  readonly failures: readonly FailedMethod[];
  /** QAQ's bit widths at the end of one method's evaluation, for the heatmap. */
  readonly bitWidths?: { readonly method: string; readonly map: BitWidthMap };
  /**
   * When rewriting a report whose folder already holds bit-widths.svg/.png (e.g. after replacing some records):
   * the method they show, so the README keeps linking them. Ignored when `bitWidths` is given.
   */
  readonly existingHeatmapMethod?: string;
}

/** The files a report folder holds, by name. */
export const reportFiles = {
  results: 'results.json',
  readme: 'README.md',
  paretoKl: 'pareto-kl',
  paretoDeltaPerplexity: 'pareto-delta-ppl',
  bitWidths: 'bit-widths',
} as const;

async function writeChart(folder: string, name: string, svg: string): Promise<void> {
  await writeFile(join(folder, `${name}.svg`), svg);
  await writeFile(join(folder, `${name}.png`), renderPng(svg));
}

/**
 * Writes a report folder: results.json (records, failures, bars, command, machine, text), README.md, and the plots
 * as SVG and PNG: bits/element against kl_mean and against Δppl with their Pareto fronts, and, when given, the
 * bit-width heatmap. Returns the paths written.
 */
export async function writeEvaluationReport(folder: string, input: EvaluationReportInput): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const records = sortByBits(input.records);
  const model = records[0]?.model ?? input.title;
  const written: string[] = [];
  const results = {
    title: input.title,
    command: input.command,
    machine: input.machine,
    text: input.text,
    notes: input.notes ?? [],
    bars: evaluateBars(records, input.failures.map((failure) => failure.method)),
    records,
    failures: input.failures,
  };
  await writeFile(join(folder, reportFiles.results), `${JSON.stringify(results, null, 2)}\n`);
  written.push(reportFiles.results);

  const klSvg = await renderSvg(
    paretoPlotSpec(records, { title: `${model}: KV bits per element against KL`, lossLabel: 'kl_mean (reference ‖ method)', loss: (record) => record.kl_mean, logarithmic: true }),
  );
  await writeChart(folder, reportFiles.paretoKl, klSvg);
  const deltaSvg = await renderSvg(
    paretoPlotSpec(records, { title: `${model}: KV bits per element against Δ perplexity`, lossLabel: 'Δppl = ppl − ppl_reference', loss: deltaPerplexity, logarithmic: false }),
  );
  await writeChart(folder, reportFiles.paretoDeltaPerplexity, deltaSvg);
  written.push(`${reportFiles.paretoKl}.svg`, `${reportFiles.paretoKl}.png`, `${reportFiles.paretoDeltaPerplexity}.svg`, `${reportFiles.paretoDeltaPerplexity}.png`);

  if (input.bitWidths !== undefined) {
    const heatmapSvg = await renderSvg(
      bitWidthHeatmapSpec(input.bitWidths.map, `${model}: ${input.bitWidths.method} bit widths by token position and layer`),
    );
    await writeChart(folder, reportFiles.bitWidths, heatmapSvg);
    written.push(`${reportFiles.bitWidths}.svg`, `${reportFiles.bitWidths}.png`);
  }

  const description: ReportDescription = {
    title: input.title,
    command: input.command,
    machine: input.machine,
    text: input.text,
    ...(input.notes === undefined ? {} : { notes: input.notes }),
    ...(input.bitWidths !== undefined
      ? { heatmapMethod: input.bitWidths.method }
      : input.existingHeatmapMethod !== undefined && existsSync(join(folder, `${reportFiles.bitWidths}.png`))
        ? { heatmapMethod: input.existingHeatmapMethod }
        : {}),
  };
  await writeFile(join(folder, reportFiles.readme), markdownReport(records, input.failures, description));
  written.push(reportFiles.readme);
  return written.map((name) => join(folder, name));
}
