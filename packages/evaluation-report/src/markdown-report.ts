import { evaluateBars, measurementSizeNote, type BarResult } from './report-bars.js';
import { deltaPerplexity, type FailedMethod, type ReportRecord } from './report-record.js';

export interface ReportDescription {
  /** Heading, e.g. the model's name. */
  readonly title: string;
  /** The exact command that made the report. */
  readonly command: string;
  /** The machine it ran on, e.g. 'AMD EPYC … (2 logical CPUs), 2-core shared VM'. */
  readonly machine: string;
  /** The text evaluated (name and where it comes from). */
  readonly text: string;
  /** Extra paragraphs (e.g. how peers were measured, what is not comparable). */
  readonly notes?: readonly string[];
  /** Whether the bit-width heatmap is in the folder, and for which method. */
  readonly heatmapMethod?: string;
}

const mebibytes = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(2) : 'n/a');
const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const precise = (value: number): string =>
  !Number.isFinite(value) ? 'n/a' : value !== 0 && Math.abs(value) < 0.001 ? value.toExponential(2) : value.toPrecision(3);
const signed = (value: number): string => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(3)}` : 'n/a');
const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** Records ordered by bits per element (then method name), the order of the report's table. */
export function sortByBits(records: readonly ReportRecord[]): ReportRecord[] {
  return [...records].sort((a, b) => a.bits_per_element - b.bits_per_element || a.method.localeCompare(b.method));
}

export function resultsTable(records: readonly ReportRecord[]): string {
  const header =
    '| method | bits/element | vs fp16 | kl_mean | kl_p99 | top-1 | ppl | Δppl | KV MiB | decode tok/s | peak RSS MiB | tokens | context |\n' +
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const rows = sortByBits(records).map((record) =>
    [
      `\`${cell(record.method)}\``,
      fixed(record.bits_per_element, 2),
      `${fixed(record.compression_ratio, 2)}×`,
      precise(record.kl_mean),
      precise(record.kl_p99),
      Number.isFinite(record.top1_agreement) ? `${(record.top1_agreement * 100).toFixed(1)}%` : 'n/a',
      fixed(record.ppl, 3),
      signed(deltaPerplexity(record)),
      mebibytes(record.kv_bytes),
      fixed(record.decode_tokens_per_s, 1),
      mebibytes(record.peak_rss_bytes),
      String(record.tokens),
      String(record.context),
    ].join(' | '),
  );
  return [header, ...rows.map((row) => `| ${row} |`)].join('\n');
}

export function barsTable(bars: readonly BarResult[]): string {
  return ['| bar | verdict | figures |', '| --- | --- | --- |', ...bars.map((bar) => `| ${cell(bar.name)} | **${bar.verdict}** | ${cell(bar.figures)} |`)].join(
    '\n',
  );
}

/** The report's README.md: what was run where, the bars with PASS/FAIL, the table, the failures and the plots. */
export function markdownReport(records: readonly ReportRecord[], failures: readonly FailedMethod[], description: ReportDescription): string {
  const bars = evaluateBars(records, failures.map((failure) => failure.method));
  const sizeNote = measurementSizeNote(records);
  const sections = [
    `# ${description.title}`,
    [
      'Made with:',
      '',
      '```sh',
      description.command,
      '```',
      '',
      `- Machine: ${description.machine}. Timings and memory come from this machine and are only comparable within this report.`,
      `- Text: ${description.text}`,
      '- Reference: the same model with a full-precision (fp32) KV cache on the same tokens; KL is KL(reference ‖ method) per scored position.',
    ].join('\n'),
    [
      '## The bars',
      '',
      'The presets were tuned on Moby-Dick; these figures are measured on the text above, which they were not tuned on.',
      '',
      barsTable(bars),
      ...(sizeNote === '' ? [] : ['', sizeNote]),
    ].join('\n'),
    ['## Results, by bits per element', '', resultsTable(records)].join('\n'),
    [
      'Columns: bits/element and KV MiB are the cache\'s exact accounting (codes, scales, outliers, tags… ) against',
      '`kv_bytes_fp16` (the same tokens in fp16); Δppl = ppl − ppl_reference; decode tok/s is the method\'s teacher-forced',
      'decode only; peak RSS is the whole evaluation process (the reference model included).',
    ].join('\n'),
    ...(failures.length === 0
      ? []
      : [['## Methods that failed', '', '| method | error |', '| --- | --- |', ...failures.map((failure) => `| \`${cell(failure.method)}\` | ${cell(failure.error)} |`)].join('\n')]),
    [
      '## Plots',
      '',
      '![bits per element against kl_mean](pareto-kl.png)',
      '',
      '![bits per element against Δppl](pareto-delta-ppl.png)',
      ...(description.heatmapMethod === undefined
        ? []
        : ['', `![bit widths of \`${description.heatmapMethod}\` over token position × layer](bit-widths.png)`]),
      '',
      'The same plots as SVG: `pareto-kl.svg`, `pareto-delta-ppl.svg`' +
        (description.heatmapMethod === undefined ? '.' : ', `bit-widths.svg`.') +
        ' All records: `results.json`.',
    ].join('\n'),
    ...(description.notes === undefined || description.notes.length === 0 ? [] : [['## Notes', '', ...description.notes.map((note) => `- ${note}`)].join('\n')]),
  ];
  return `${sections.join('\n\n')}\n`;
}
