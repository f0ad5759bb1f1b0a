/**
 * KV memory of the QAQ runtime per model × context × KV method: each in its own child process, prefill real book
 * text (chunked), decode greedily, then the KV bytes held from the cache's own accounting (bytes, slack,
 * fp16-equivalent, bits/element, the live components), the process's peak RSS and decode tokens/s.
 *
 *   node --conditions=source --import tsx bench/kv-memory.ts [--run smollm2-135m=2048,8192] [--run gemma3-270m=8192]
 *     [--run 'gemma3-270m=32768/fp32 qaq'] [--methods 'qaq qaq:compact fp16 uniform:4 fp32 kivi:2']
 *     [--kivi-max-context 2048] [--decode 16] [--threads 2] [--chunk 512] [--book austen-emma] [--timeout 300]
 *     [--write-doc]
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cachedModelPath, getRegisteredModel, resolveCacheDirectory } from '@qaq/models';
import { readGutenbergBook, tokenizeForModel, writeTokenFile } from './src/context-tokens.js';
import type { KvMemoryJob, KvMemoryResult } from './src/kv-memory-job.js';
import { parsePlanEntry, splitMethods } from './src/kv-memory-plan.js';
import { kvMemoryTable, type KvMemoryMiss } from './src/kv-memory-report.js';
import { kvMemoryDocument, type KvMemoryEnvironment } from './src/kv-memory-document.js';
import { cpuDescription, positiveIntegerArgument, runWorkerScript, WorkerFailure } from './src/worker-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = dirname(here);
const { values } = parseArgs({
  options: {
    run: { type: 'string', multiple: true, default: ['smollm2-135m=2048,8192', 'gemma3-270m=8192'] },
    methods: { type: 'string', default: 'qaq qaq:compact fp16 uniform:4 fp32 kivi:2' },
    'kivi-max-context': { type: 'string', default: '2048' },
    decode: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    chunk: { type: 'string', default: '512' },
    book: { type: 'string', default: 'austen-emma' },
    timeout: { type: 'string', default: '300' },
    'write-doc': { type: 'boolean', default: false },
  },
});
const plan = values.run.map(parsePlanEntry);
const defaultMethods = splitMethods(values.methods);
const kiviMaxContext = positiveIntegerArgument(values['kivi-max-context'], 'kivi-max-context');
const decodeSteps = positiveIntegerArgument(values.decode, 'decode');
const threads = positiveIntegerArgument(values.threads, 'threads');
const prefillChunk = positiveIntegerArgument(values.chunk, 'chunk');
const timeoutSeconds = positiveIntegerArgument(values.timeout, 'timeout');

const started = new Date();
const loadBefore = loadavg();
const workDirectory = await mkdtemp(join(tmpdir(), 'qaq-kv-memory-'));
const text = await readGutenbergBook(values.book);
const results: KvMemoryResult[] = [];
const misses: KvMemoryMiss[] = [];
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
        if (kv.startsWith('kivi') && contextTokens > kiviMaxContext) {
          misses.push({ model: entry.model, kv, contextTokens, reason: `skipped (kivi's float64 reference attention; --kivi-max-context ${kiviMaxContext})` });
          continue;
        }
        const job: KvMemoryJob = { model: entry.model, modelPath, tokenFile, contextTokens, decodeSteps, threads, prefillChunk, kv };
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
          misses.push({ model: entry.model, kv, contextTokens, reason });
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
  const directory = join(repositoryRoot, 'docs', 'benchmarks');
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'kv-memory.json'), `${JSON.stringify({ environment, results, misses }, null, 2)}\n`);
  await writeFile(join(directory, 'kv-memory.md'), kvMemoryDocument(kvMemoryTable(results, misses), environment, results));
}

function quoteArgument(argument: string): string {
  return /^[\w.,:=/@-]+$/.test(argument) ? argument : `'${argument}'`;
}
