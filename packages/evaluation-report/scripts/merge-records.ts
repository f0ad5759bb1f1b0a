// Replaces or adds records in a report folder from `qaq eval --json` output, then rewrites the folder (README, plots,
// results.json) with the same title, command, machine and text. Used when a method is re-measured on the same
// tokens after a change (e.g. a preset), so the report shows what the code does now; the note says what was merged.
//   node --conditions=source --import tsx packages/evaluation-report/scripts/merge-records.ts <folder> <records.json…> --note "<text>"
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseReportRecord, reportFiles, writeEvaluationReport, type FailedMethod, type ReportRecord } from '../src/index.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { note: { type: 'string', multiple: true } } });
const [folder, ...recordFiles] = positionals;
if (folder === undefined || recordFiles.length === 0) throw new Error('usage: merge-records.ts <folder> <records.json…> [--note <text>]');
const previous = JSON.parse(await readFile(join(folder, reportFiles.results), 'utf8')) as {
  title: string;
  command: string;
  machine: string;
  text: string;
  notes: string[];
  records: unknown[];
  failures: FailedMethod[];
};
const merged = new Map<string, ReportRecord>(previous.records.map((record) => { const parsed = parseReportRecord(record); return [parsed.method, parsed]; }));
for (const file of recordFiles) {
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    const record = parseReportRecord(JSON.parse(line));
    merged.set(record.method, record);
  }
}
const failures = previous.failures.filter((failure) => !merged.has(failure.method));
const written = await writeEvaluationReport(folder, {
  title: previous.title,
  command: previous.command,
  machine: previous.machine,
  text: previous.text,
  notes: [...previous.notes, ...(values.note ?? [])],
  records: [...merged.values()],
  failures,
});
process.stdout.write(`rewrote ${written.join(', ')} in ${folder}\n`);
