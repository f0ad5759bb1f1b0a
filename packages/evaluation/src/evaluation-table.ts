import type { EvaluationRecord } from './evaluation-record.js';
import type { PasskeyCell } from './passkey-evaluation.js';

function pad(cells: readonly string[][]): string {
  const widths = cells[0]?.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length))) ?? [];
  return cells.map((row) => row.map((cell, column) => cell.padStart(widths[column] ?? 0)).join('  ')).join('\n');
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : String(value));

/** A readable table of evaluation records (one row per method). */
export function formatEvaluationTable(records: readonly EvaluationRecord[]): string {
  const header = ['method', 'tokens', 'ppl', 'ppl ref', 'KL mean', 'KL p99', 'top-1', 'bits/el', 'ratio', 'KV MiB', 'tok/s'];
  const rows = records.map((record) => [
    record.method,
    String(record.tokens),
    fixed(record.ppl, 3),
    fixed(record.ppl_reference, 3),
    fixed(record.kl_mean, 4),
    fixed(record.kl_p99, 4),
    `${fixed(100 * record.top1_agreement, 1)}%`,
    fixed(record.bits_per_element, 2),
    `${fixed(record.compression_ratio, 2)}x`,
    fixed(record.kv_bytes / 1024 ** 2, 2),
    fixed(record.decode_tokens_per_s, 1),
  ]);
  return pad([header, ...rows]);
}

/** Passkey accuracy per method × length (rows) and depth (columns). */
export function formatPasskeyTable(results: readonly { method: string; cells: readonly PasskeyCell[] }[]): string {
  const depths = [...new Set(results.flatMap((result) => result.cells.map((cell) => cell.depth)))];
  const header = ['method', 'length', ...depths.map((depth) => `depth ${depth}`), 'mean'];
  const rows: string[][] = [];
  for (const result of results) {
    const lengths = [...new Set(result.cells.map((cell) => cell.length))];
    for (const length of lengths) {
      const cells = result.cells.filter((cell) => cell.length === length);
      const correct = cells.reduce((sum, cell) => sum + cell.correct, 0);
      const trials = cells.reduce((sum, cell) => sum + cell.trials, 0);
      rows.push([
        result.method,
        String(length),
        ...depths.map((depth) => {
          const cell = cells.find((entry) => entry.depth === depth);
          return cell === undefined ? '-' : `${cell.correct}/${cell.trials}`;
        }),
        `${fixed((100 * correct) / Math.max(1, trials), 0)}%`,
      ]);
    }
  }
  return pad([header, ...rows]);
}
