/**
 * KV memory of the QAQ runtime per model × context × KV method: each in its own child process, prefill real book
 * text (chunked), decode greedily, then the KV bytes held from the cache's own accounting (bytes, slack,
 * fp16-equivalent, bits/element, the live components), the process's peak RSS and decode tokens/s.
 *
 *   node --conditions=source --import tsx bench/kv-memory.ts [--run smollm2-135m=2048,8192] [--run gemma3-270m=8192]
 *     [--run 'gemma3-270m=32768/qaq kivi:2'] (without --run: defaultPlanSpecs of src/kv-memory-plan.ts) [--methods 'qaq qaq:compact fp16 uniform:4 fp32 ort-int4 kivi:2']
 *     [--kivi-max-context 2048] [--decode 16] [--threads 2] [--chunk 512] [--book austen-emma] [--timeout 300] [--cpu-arena default|on|off]
 *     [--write-doc] [--append] [--render-only] [--output docs/benchmarks/kv-memory] [--merge other.json]
 *     [--baseline earlier.json [--baseline-label 'before']]
 *
 * --write-doc writes docs/benchmarks/kv-memory.{md,json} after every job; --append keeps the rows already there (rows
 * measured again are replaced); --render-only rewrites the .md from the .json without measuring; --output picks
 * another path (without extension) for both, so two runs can share a machine; --merge (with --render-only) folds
 * such a run's .json into this one, its rows replacing the same model × context × method; --baseline adds a
 * "before → now" table of held bytes, RSS and speed against an earlier run's .json.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cachedModelPath, getRegisteredModel, resolveCacheDirectory } from '@qaq/models';
import { readGutenbergBook, tokenizeForModel, writeTokenFile } from './src/context-tokens.js';
import { arenaChoice, type KvMemoryJob, type KvMemoryResult } from './src/kv-memory-job.js';
import { defaultPlanSpecs, parsePlanEntry, splitMethods } from './src/kv-memory-plan.js';
import { kvMemoryTable, type KvMemoryMiss } from './src/kv-memory-report.js';
import { kvMemoryDocument, type KvMemoryBaseline, type KvMemoryEnvironment } from './src/kv-memory-document.js';
import { cpuDescription, positiveIntegerArgument, runWorkerScript, WorkerFailure } from './src/worker-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = dirname(here);
const { values } = parseArgs({
  options: {
    run: { type: 'string', multiple: true, default: [...defaultPlanSpecs] },
    methods: { type: 'string', default: 'qaq qaq:compact fp16 uniform:4 fp32 ort-int4 kivi:2' },
    'kivi-max-context': { type: 'string', default: '2048' },
    decode: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    chunk: { type: 'string', default: '512' },
    book: { type: 'string', default: 'austen-emma' },
    timeout: { type: 'string', default: '300' },
    'cpu-arena': { type: 'string', default: 'default' },
    'write-doc': { type: 'boolean', default: false },
    append: { type: 'boolean', default: false },
    'render-only': { type: 'boolean', default: false },
    output: { type: 'string', default: 'docs/benchmarks/kv-memory' },
    merge: { type: 'string', multiple: true, default: [] },
    baseline: { type: 'string' },
    'baseline-label': { type: 'string', default: 'before' },
  },
});
const outputBase = resolve(repositoryRoot, values.output);
const jsonPath = `${outputBase}.json`;
const markdownPath = `${outputBase}.md`;
const plan = values.run.map(parsePlanEntry);
const defaultMethods = splitMethods(values.methods);
const kiviMaxContext = positiveIntegerArgument(values['kivi-max-context'], 'kivi-max-context');
const decodeSteps = positiveIntegerArgument(values.decode, 'decode');
const threads = positiveIntegerArgument(values.threads, 'threads');
const prefillChunk = positiveIntegerArgument(values.chunk, 'chunk');
const timeoutSeconds = positiveIntegerArgument(values.timeout, 'timeout');
const cpuArena = arenaChoice(values['cpu-arena']);

/** --baseline: an earlier run's .json whose rows the document compares with ("before → now"). */
const baseline: KvMemoryBaseline | null =
  values.baseline === undefined ? null : { label: values['baseline-label'], results: (await readPrevious(resolve(repositoryRoot, values.baseline))).results };
const previous = values.append || values['render-only'] ? await readPrevious(jsonPath) : { runs: [], results: [], misses: [] };
if (values['render-only']) {
  for (const path of values.merge) {
    const other = await readPrevious(resolve(repositoryRoot, path));
    const key = (row: { model: string; contextTokens: number; kv: string; cpuArena?: string | undefined }): string =>
      `${row.model} ${row.contextTokens} ${row.kv} ${row.cpuArena ?? 'default'}`;
    const replaced = new Set([...other.results, ...other.misses].map(key));
    previous.runs.push(...other.runs);
    previous.results = [...previous.results.filter((row) => !replaced.has(key(row))), ...other.results];
    previous.misses = [...previous.misses.filter((row) => !replaced.has(key(row))), ...other.misses];
  }
  if (values.merge.length > 0) await writeFile(jsonPath, `${JSON.stringify(previous, null, 2)}\n`);
  await writeFile(markdownPath, kvMemoryDocument(kvMemoryTable(previous.results, previous.misses), previous.runs, previous.results, baseline));
  process.exit(0);
}
const started = new Date();
const loadBefore = loadavg();
const workDirectory = await mkdtemp(join(tmpdir(), 'qaq-kv-memory-'));
const text = await readGutenbergBook(values.book);
const results: KvMemoryResult[] = [...previous.results];
const misses: KvMemoryMiss[] = [...previous.misses];
/** With --append, a row this run measures again replaces the earlier one. */
function forgetEarlier(model: string, contextTokens: number, kv: string): void {
  const same = (row: { model: string; contextTokens: number; kv: string; cpuArena?: string | undefined }): boolean =>
    row.model === model && row.contextTokens === contextTokens && row.kv === kv && (row.cpuArena ?? 'default') === cpuArena;
  for (const rows of [results, misses] as { model: string; contextTokens: number; kv: string; cpuArena?: string }[][]) {
    for (let index = rows.length - 1; index >= 0; index--) if (same(rows[index]!)) rows.splice(index, 1);
  }
}
try {
  for (const entry of plan) {
    const registered = getRegisteredModel(entry.model);
    const modelPath = cachedModelPath(resolveCacheDirectory(), registered.id, registered.fileName);
    const { tokens, contextLength } = await tokenizeForModel(modelPath, text, Math.max(...entry.contexts));
    const tokenFile = join(workDirectory, `${entry.model}-${Math.max(...entry.contexts)}.tokens`);
    await writeTokenFile(tokenFile, tokens);
    for (const requested of entry.contexts) {
      // Prefill plus decode must fit the trained window (SmolLM2: 8,192).
      const contextTokens = Math.min(requested, contextLength - decodeSteps - 8);
      for (const kv of entry.methods ?? defaultMethods) {
        forgetEarlier(entry.model, contextTokens, kv);
        if (kv.startsWith('kivi') && contextTokens > kiviMaxContext) {
          misses.push({ model: entry.model, kv, contextTokens, cpuArena, reason: `skipped (kivi's float64 reference attention; --kivi-max-context ${kiviMaxContext})` });
          continue;
        }
        const job: KvMemoryJob = { model: entry.model, modelPath, tokenFile, contextTokens, decodeSteps, threads, prefillChunk, kv, cpuArena };
        const jobStarted = performance.now();
        try {
          const result = (await runWorkerScript(join(here, 'kv-memory-worker.ts'), job, {
            cwd: repositoryRoot,
            timeoutMilliseconds: timeoutSeconds * 1000,
          })) as KvMemoryResult;
          results.push(result);
          console.error(
            `${entry.model} ${contextTokens} ${kv}: KV ${(result.memory.bytes / 2 ** 20).toFixed(2)} MiB, ` +
              `${result.memory.bitsPerElement.toFixed(2)} bits/element, ${result.compressionVersusFp16.toFixed(2)}× vs fp16, ` +
              `peak RSS ${result.peakResidentMegabytes.toFixed(0)} MB, decode ${(1000 / result.decodeMedianMilliseconds).toFixed(1)} tok/s ` +
              `(${((performance.now() - jobStarted) / 1000).toFixed(0)} s)`,
          );
        } catch (error) {
          if (!(error instanceof WorkerFailure)) throw error;
          const reason = error.timedOut ? `timed out after ${timeoutSeconds} s` : 'worker failed';
          misses.push({ model: entry.model, kv, contextTokens, cpuArena, reason });
          console.error(`${entry.model} ${contextTokens} ${kv}: ${error.message}`);
        }
        // Written after every job, so a run cut short still leaves what it measured.
        if (values['write-doc']) await writeDocuments();
      }
    }
  }
} finally {
  await rm(workDirectory, { recursive: true, force: true });
}
console.log(kvMemoryTable(results, misses));
if (values['write-doc']) await writeDocuments();

async function writeDocuments(): Promise<void> {
  const environment: KvMemoryEnvironment = {
    date: started.toISOString(),
    command: `node --conditions=source --import tsx bench/kv-memory.ts ${process.argv.slice(2).map(quoteArgument).join(' ')}`.trim(),
    cpu: cpuDescription(),
    loadAverage1mBefore: loadBefore[0] ?? 0,
    loadAverage1mAfter: loadavg()[0] ?? 0,
    node: process.version,
    book: values.book,
    decodeSteps,
    threads,
    prefillChunk,
    wallSeconds: (Date.now() - started.getTime()) / 1000,
  };
  const runs = [...previous.runs, environment];
  await mkdir(dirname(outputBase), { recursive: true });
  await writeFile(jsonPath, `${JSON.stringify({ runs, results, misses }, null, 2)}\n`);
  await writeFile(markdownPath, kvMemoryDocument(kvMemoryTable(results, misses), runs, results, baseline));
}

/** The figures written by earlier runs (a first version kept one `environment` instead of `runs`). */
async function readPrevious(path: string): Promise<{ runs: KvMemoryEnvironment[]; results: KvMemoryResult[]; misses: KvMemoryMiss[] }> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as {
    runs?: KvMemoryEnvironment[];
    environment?: KvMemoryEnvironment;
    results: KvMemoryResult[];
    misses: KvMemoryMiss[];
  };
  const runs = parsed.runs ?? (parsed.environment === undefined ? [] : [parsed.environment]);
  return { runs, results: parsed.results, misses: parsed.misses };
}

function quoteArgument(argument: string): string {
  return /^[\w.,:=/@-]+$/.test(argument) ? argument : `'${argument}'`;
}
