import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bitWidthMapFromEvaluation,
  parseReportRecord,
  writeEvaluationReport,
  type BitWidthMap,
  type FailedMethod,
  type ReportRecord,
} from '@qaq/evaluation-report';
import { readGguf } from '@qaq/gguf';
import { resolveModel } from '@qaq/models';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';
import { usageError } from '../cli-error.js';
import { parseKvMethod } from '../kv-method.js';
import { parseSweepArguments, peerMethods, sweepMethodSeparator, type EvaluationSweepOptions } from '../sweep-arguments.js';
import { childFailureReason, jsonLines, runNodeChild, type ChildRunResult } from '../sweep-child.js';
import { tokenizeTextPrefix } from '../sweep-tokens.js';

export const evalSweepHelp = `qaq eval --sweep --text <file.txt> --out <folder> [options]

Evaluates a list of KV methods (each in its own process, so memory figures do not mix) with "qaq eval" and writes
a report folder: results.json, README.md (table by bits/element, the quality bars with PASS/FAIL, the command, the
machine, the text), pareto-kl.svg/.png, pareto-delta-ppl.svg/.png and bit-widths.svg/.png (QAQ's bit widths over
token position × layer at the end of its evaluation). A method that fails is listed with its error.
  --model <id|path>        as for eval (default smollm2-135m)
  --text <file>            the text (any plain-text file)
  --out <folder>           the report folder (created)
  --methods "a${sweepMethodSeparator}b${sweepMethodSeparator}c"      methods separated by "${sweepMethodSeparator}" (methods contain commas), default:
                           fp16;uniform:2;uniform:3;uniform:4;uniform:8;kivi:2;kivi:4;ort-int4;ort-int8;qaq;
                           qaq:compact;qaq:sk=0.001,sv=0.01;qaq:sk=0.005,sv=0.1;qaq:sk=0.01,sv=0.2
                           llama-f16, llama-q8_0, llama-q4_0 are the llama.cpp peers
  --peers                  add the llama.cpp peers (node-llama-cpp from the repository's bench/ workspace, run
                           together in one bench/eval-peer-worker.ts process on our token ids, against our
                           fp32 reference)
  --context N, --stride N, --max-tokens N   as for eval (defaults 1024, context/2, 4096)
  --heatmap-method <m>     the swept QAQ method whose bit widths are mapped (default qaq); --no-heatmap: none
  --group-size N           N of our methods per process, in lockstep with one fp32 reference pass (faster;
                           peak RSS is then the group's process's); default 1 = each method alone
  --lockstep               all our methods in one process (--group-size without a limit)
  --timeout-minutes N      kill a method's process after N minutes (default 120)
  --peer-threads N         llama.cpp threads (default 1: its threads spin-wait, which a shared VM punishes)
  --attention-threads <n|auto>  our methods' attention-kernel threads, handed to each child (default auto)
  --machine "<text>"       machine description for the report (default: lscpu's CPU model and count)
  --text-description "<text>"   what the text is, for the report (default: its file name)
`;

/** Where a sweep's children live: the CLI's own entry point and, in a repository checkout, the bench peer worker. */
function childScripts(): { cliEntry: string; peerWorker: string } {
  const here = fileURLToPath(import.meta.url);
  return {
    cliEntry: fileURLToPath(new URL(`../main${extname(here)}`, import.meta.url)),
    peerWorker: fileURLToPath(new URL('../../../../bench/eval-peer-worker.ts', import.meta.url)),
  };
}

function machineDescription(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((text) => text.startsWith('Model name:'));
    if (line !== undefined) model = line.replace('Model name:', '').trim();
  } catch {
    // No lscpu: keep Node's model string.
  }
  return `${model}, ${cpus().length}-core shared VM (other jobs were running)`;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface MethodOutcome {
  readonly records: ReportRecord[];
  readonly failures: FailedMethod[];
}

/** Keeps the method text as typed (short, as in the plots) and H1's canonical name beside it. */
function withRequestedName(record: ReportRecord, requested: string): ReportRecord {
  return record.method === requested ? record : { ...record, method: requested, method_canonical: record.method };
}

function outcomeOf(methods: readonly string[], result: ChildRunResult, timeoutMinutes: number, pickRecords: (objects: unknown[]) => unknown[]): MethodOutcome {
  const objects = pickRecords(jsonLines(result.stdout));
  if (result.exitCode !== 0 || objects.length !== methods.length) {
    const reason = childFailureReason(result, timeoutMinutes);
    return { records: [], failures: methods.map((method) => ({ method, error: reason })) };
  }
  const records: ReportRecord[] = [];
  const failures: FailedMethod[] = [];
  objects.forEach((object, index) => {
    const method = methods[index] as string;
    try {
      records.push(withRequestedName(parseReportRecord(object), method));
    } catch (error) {
      failures.push({ method, error: `unreadable record: ${(error as Error).message}` });
    }
  });
  return { records, failures };
}

async function runOurMethods(
  methods: readonly string[],
  options: EvaluationSweepOptions,
  heatmapFile: string | null,
  cliEntry: string,
): Promise<MethodOutcome> {
  const args = [
    ...process.execArgv,
    cliEntry,
    'eval',
    '--model',
    options.model,
    '--text',
    options.text,
    '--context',
    String(options.context),
    '--max-tokens',
    String(options.maxTokens),
    ...(options.stride === undefined ? [] : ['--stride', String(options.stride)]),
    ...methods.flatMap((method) => ['--method', method]),
    ...(heatmapFile === null ? [] : ['--heatmap', heatmapFile]),
    ...(options.attentionThreads === undefined ? [] : ['--attention-threads', options.attentionThreads]),
    '--json',
  ];
  const result = await runNodeChild(args, { cwd: process.cwd(), timeoutMilliseconds: options.timeoutMinutes * 60_000 });
  return outcomeOf(methods, result, options.timeoutMinutes, (objects) => objects.filter((object) => typeof (object as { method?: unknown }).method === 'string'));
}

/** The llama.cpp peers in one worker process, in lockstep with one fp32 reference pass (bench/eval-peer-worker.ts). */
async function runPeers(methods: readonly string[], options: EvaluationSweepOptions, job: Record<string, unknown>, peerWorker: string): Promise<MethodOutcome> {
  if (!existsSync(peerWorker)) {
    const error = `the llama.cpp peers need the repository's bench/ workspace (node-llama-cpp); ${peerWorker} is missing`;
    return { records: [], failures: methods.map((method) => ({ method, error })) };
  }
  const cacheTypes = methods.map((method) => method.slice('llama-'.length));
  const result = await runNodeChild(['--conditions=source', '--import', 'tsx', peerWorker, JSON.stringify({ ...job, cacheTypes })], {
    cwd: fileURLToPath(new URL('../../../../', import.meta.url)),
    timeoutMilliseconds: options.timeoutMinutes * 60_000,
  });
  return outcomeOf(methods, result, options.timeoutMinutes, (objects) =>
    objects.flatMap((object) => {
      const value = (object as { result?: unknown }).result;
      return Array.isArray(value) ? value : [];
    }),
  );
}

export interface EvaluationSweepResult {
  readonly records: readonly ReportRecord[];
  readonly failures: readonly FailedMethod[];
  readonly files: readonly string[];
}

/**
 * Runs every method of the sweep in a fresh child process (ours through `qaq eval --json`, the llama.cpp peers
 * through bench/eval-peer-worker.ts), keeps going past failures, and writes the report folder.
 */
export async function runEvaluationSweep(options: EvaluationSweepOptions): Promise<EvaluationSweepResult> {
  const peers = options.methods.filter((method) => method.startsWith('llama-'));
  const ours = options.methods.filter((method) => !method.startsWith('llama-'));
  for (const peer of peers) {
    if (!peerMethods.includes(peer)) throw usageError(`unknown peer ${peer}; the peers are ${peerMethods.join(', ')}`, { peer });
  }
  for (const method of ours) parseKvMethod(method);
  const text = await readFile(options.text, 'utf8');
  if (text.trim() === '') throw usageError(`--text ${options.text} is empty`, { path: options.text });
  const { cliEntry, peerWorker } = childScripts();
  const scratch = await mkdtemp(join(tmpdir(), 'qaq-sweep-'));
  const records: ReportRecord[] = [];
  const failures: FailedMethod[] = [];
  let bitWidths: { method: string; map: BitWidthMap } | undefined;
  const writeReport = (): Promise<string[]> =>
    writeEvaluationReport(options.out, {
      title: `${options.model}: KV-cache methods on ${basename(options.text)}`,
      command: options.command,
      machine: options.machine ?? machineDescription(),
      text: options.textDescription ?? basename(options.text),
      records,
      failures,
      ...(bitWidths === undefined ? {} : { bitWidths }),
      notes: sweepNotes(options, records, peers),
    });
  const started = Date.now();
  const timed = async (label: string, run: () => Promise<MethodOutcome>): Promise<void> => {
    const begin = Date.now();
    log(`sweep: ${label} …`);
    const outcome = await run();
    records.push(...outcome.records);
    failures.push(...outcome.failures);
    const status = outcome.failures.length === 0 ? 'done' : `failed (${outcome.failures.map((failure) => failure.error).join('; ')})`;
    log(`sweep: ${label} ${status} in ${((Date.now() - begin) / 1000).toFixed(0)} s (sweep ${((Date.now() - started) / 60_000).toFixed(1)} min)`);
    // The report so far, so that a sweep stopped part-way still leaves what it measured.
    await writeReport();
  };
  try {
    const heatmapFile = join(scratch, 'bit-widths.json');
    for (let first = 0; first < ours.length; first += Math.min(options.groupSize, ours.length)) {
      const group = ours.slice(first, first + Math.min(options.groupSize, ours.length));
      const mapped = options.heatmapMethod !== null && group.includes(options.heatmapMethod);
      await timed(group.length === 1 ? group.join('') : `${group.join(' ')} (lockstep)`, () => runOurMethods(group, options, mapped ? heatmapFile : null, cliEntry));
      if (mapped && options.heatmapMethod !== null && existsSync(heatmapFile)) {
        try {
          const file = JSON.parse(await readFile(heatmapFile, 'utf8')) as unknown;
          // The map is named by the canonical method text (what the record's method_canonical keeps).
          const canonical = records.find((record) => record.method === options.heatmapMethod)?.['method_canonical'];
          const found = bitWidthMapFromEvaluation(file, typeof canonical === 'string' ? canonical : options.heatmapMethod);
          bitWidths = { method: options.heatmapMethod, map: found.map };
        } catch (error) {
          failures.push({ method: `${options.heatmapMethod} (bit-width map)`, error: (error as Error).message });
        }
      }
    }
    if (peers.length > 0) {
      const resolved = await resolveModel(options.model);
      const gguf = new Uint8Array(await readFile(resolved.path));
      const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(readGguf(gguf).metadata));
      const tokens = tokenizeTextPrefix(tokenizer, text, options.maxTokens);
      const tokenFile = join(scratch, 'tokens.bin');
      await writeFile(tokenFile, new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength));
      const job = {
        model: options.model,
        modelPath: resolved.path,
        tokenFile,
        context: options.context,
        ...(options.stride === undefined ? {} : { stride: options.stride }),
        threads: options.peerThreads,
        textName: basename(options.text),
      };
      await timed(`${peers.join(' ')} (llama.cpp, lockstep)`, () => runPeers(peers, options, job, peerWorker));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const files = await writeReport();
  log(`sweep: report written to ${options.out} (${records.length} methods, ${failures.length} failures)`);
  return { records, failures, files };
}

/** What a reader needs to know about how this sweep was run. */
function sweepNotes(options: EvaluationSweepOptions, records: readonly ReportRecord[], peers: readonly string[]): string[] {
  const notes = [
    `Windows of ${options.context} tokens advanced by ${options.stride ?? Math.floor(options.context / 2)}, the first ${options.maxTokens} tokens of the text; every position after the first is scored once, by teacher-forced decode through the cache (packages/evaluation/README.md).`,
    options.groupSize > 1
      ? `Our methods ran ${Number.isFinite(options.groupSize) ? `in groups of up to ${options.groupSize}, each group` : 'all'} in one process in lockstep with one fp32 reference pass: bits, KV bytes and quality are per method; peak RSS is the whole group's process, and decode tok/s is each method's own forward() time.`
      : 'Each method ran in its own process with its own fp32 reference, so peak RSS is its own (the reference model included).',
  ];
  const tokenCounts = new Set(records.map((record) => record.tokens));
  if (tokenCounts.size > 1) notes.push(`Token counts differ between records (${[...tokenCounts].join(', ')}): compare with care.`);
  if (peers.length > 0) {
    notes.push(
      `llama.cpp peers (${peers.map((peer) => `\`${peer}\``).join(', ')}): node-llama-cpp 3.22.1 prebuilt CPU binaries on the same GGUF, fed ` +
        `our tokenizer's ids directly, flash attention on, ${options.peerThreads} thread(s), all in one process (their peak RSS is shared), ` +
        'in the same windows and against the same fp32 reference (our runtime) with the same metric code. Their KL therefore includes ' +
        'the difference between the two engines (see `llama-f16`, whose cache is not quantized): compare the peers with each other and ' +
        "with `llama-f16`. Their KV bytes are computed (live elements × the cache type's bytes per element: 2, 34/32, 18/32), not read " +
        "from llama.cpp. Their decode tok/s includes copying the full logits through node-llama-cpp's Map API; " +
        "`decode_tokens_per_s_without_logits` in results.json is llama.cpp's own single-token speed.",
    );
  }
  return notes;
}

/** `qaq eval --sweep …`: parses the command line and runs the sweep. */
export async function runEvaluationSweepCommand(argv: readonly string[]): Promise<void> {
  await runEvaluationSweep(parseSweepArguments(argv));
}
