import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { createNodeBackend } from '@qaq/backend-node';
import {
  ablationMethods,
  evaluateMethods,
  evaluatePasskey,
  formatEvaluationTable,
  formatPasskeyTable,
  type EvaluationProgress,
  type PasskeyEvaluation,
} from '@qaq/evaluation';
import { readGguf } from '@qaq/gguf';
import { createStderrProgressReporter, defaultModelId, resolveModel } from '@qaq/models';
import { kvMethodSyntax, loadLanguageModel } from '@qaq/runtime';
import { createTokenizer, tokenizerSourceFromGgufMetadata, type Tokenizer } from '@qaq/tokenizer';
import { usageError } from '../cli-error.js';
import { parseKvMethod } from '../kv-method.js';
import { attentionKernelFor, kernelOption } from '../load-model.js';
import { attentionThreadsHelp, attentionThreadsOption, numberOption } from '../options.js';
import { peakResidentBytes } from '../run-report.js';
import { evalSweepHelp, runEvaluationSweepCommand } from './eval-sweep.js';

export const evalHelp = `qaq eval [options] --text <file.txt> --method <method>

Evaluates KV-cache methods against the same model with a full-precision (fp32) cache, in one process on the
same tokens (packages/evaluation/README.md says exactly what is measured).

Perplexity and KL (default task): teacher-forced streaming decode in windows of --context tokens
  --model <id|path|url>   smollm2-135m (default), gemma3-270m, a .gguf path or an https URL
  --text <file>           any plain-text (UTF-8) file, e.g. a Project Gutenberg book
  --method <method>       ${kvMethodSyntax.replaceAll('\n', ' ')}
                          keys-only / values-only: uniform:<B>,part=keys|values (the other side at fp16).
                          Repeat --method to run several methods in lockstep with one reference pass
  --context N             tokens per window (default 1024)
  --stride N              window advance; each later window scores its last N tokens (default context/2)
  --max-tokens N          evaluate the first N tokens of the text (default 4096)
  --heatmap <file.json>   write each compact cache's bit width per token position × layer (keys and values)
                          at the end of the evaluation
  --ablations             run the paper's ablations: keys-only and values-only uniform:1..4, then --method
                          (default qaq) with alpha=0, window=1 and tier=1
  --json                  one JSON object per method on stdout (one line each)
${attentionThreadsHelp}
Passkey retrieval (--task passkey): a five-digit key hidden at each depth of real text from --text
  --lengths L1,L2,...     prompt lengths in tokens (default 1024,2048)
  --depths D1,D2,...      needle depths in [0, 1] (default 0,0.25,0.5,0.75,1)
  --trials N              prompts (different keys) per length and depth (default 1)
  --seed S                seeds the keys: every method gets the same prompts (default 0)

Report folder (--sweep): every method in its own "qaq eval --json" process, then tables and plots.
${evalSweepHelp}`;

function splitNumbers(flag: string, text: string, range: { minimum: number; maximum: number; integer: boolean }): number[] {
  const values = text.split(',').map((part) => numberOption(flag, part.trim(), range) as number);
  if (values.length === 0) throw usageError(`--${flag} needs at least one value`, { flag });
  return values;
}

async function readText(path: string | undefined): Promise<{ text: string; name: string }> {
  if (path === undefined) throw usageError('eval needs --text <file.txt> (any plain-text file)', {});
  const text = await readFile(path, 'utf8');
  if (text.trim() === '') throw usageError(`--text ${path} is empty`, { path });
  return { text, name: basename(path) };
}

/** The first `count` tokens of the text (fewer when the text is shorter), BOS included where the model uses one. */
function tokenizeText(tokenizer: Tokenizer, text: string, count: number): Int32Array {
  for (let characters = count * 6; ; characters *= 2) {
    const tokens = tokenizer.encode(text.slice(0, characters), { addSpecialTokens: true });
    if (tokens.length >= count || characters >= text.length) return tokens.slice(0, count);
  }
}

/** A progress bar on stderr (redrawn in place on a terminal, a line per 10% otherwise). */
function progressBar(label: string): (progress: EvaluationProgress) => void {
  const started = Date.now();
  let lastDraw = 0;
  let lastDecile = -1;
  const terminal = process.stderr.isTTY === true;
  return ({ scoredTokens, totalScoredTokens, window, windowCount }) => {
    const now = Date.now();
    const done = scoredTokens === totalScoredTokens;
    const fraction = scoredTokens / totalScoredTokens;
    const decile = Math.floor(fraction * 10);
    if (terminal ? !done && now - lastDraw < 200 : decile === lastDecile && !done) return;
    lastDraw = now;
    lastDecile = decile;
    const seconds = (now - started) / 1000;
    const rate = scoredTokens / Math.max(seconds, 1e-3);
    const eta = (totalScoredTokens - scoredTokens) / Math.max(rate, 1e-9);
    const width = 30;
    const filled = Math.round(fraction * width);
    const line =
      `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${scoredTokens}/${totalScoredTokens} tokens, ` +
      `window ${window + 1}/${windowCount}, ${rate.toFixed(1)} tok/s, ETA ${Math.round(eta)} s`;
    process.stderr.write(terminal ? `\r${line}${done ? '\n' : ''}` : `${line}\n`);
  };
}

export async function runEval(argv: readonly string[]): Promise<void> {
  // --sweep has its own flags (--out, --methods, …): hand the whole command line to the sweep.
  if (argv.includes('--sweep')) {
    await runEvaluationSweepCommand(argv);
    return;
  }
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string' },
      text: { type: 'string' },
      method: { type: 'string', multiple: true },
      context: { type: 'string' },
      stride: { type: 'string' },
      'max-tokens': { type: 'string' },
      heatmap: { type: 'string' },
      ablations: { type: 'boolean', default: false },
      task: { type: 'string' },
      lengths: { type: 'string' },
      depths: { type: 'string' },
      trials: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      'attention-threads': { type: 'string' },
    },
  });
  const { attentionThreads } = attentionThreadsOption(values['attention-threads']);
  const task = values.task ?? 'ppl';
  if (task !== 'ppl' && task !== 'passkey') throw usageError(`--task must be ppl or passkey, got "${task}"`, { task });
  const methodTexts = values.ablations
    ? ablationMethods(values.method?.[0] ?? 'qaq').map((entry) => entry.method)
    : (values.method ?? []);
  if (methodTexts.length === 0) throw usageError('eval needs --method <method> (or --ablations)', {});
  if (values.ablations && (values.method?.length ?? 0) > 1) throw usageError('--ablations takes at most one --method (the QAQ setting to ablate)', {});
  // Parse every method before loading anything, so a typo fails fast with exit code 2.
  const methods = methodTexts.map((text) => parseKvMethod(text).method);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const quiet = values.json;

  const { text, name: textName } = await readText(values.text);
  const modelName = values.model ?? defaultModelId;
  const resolved = await resolveModel(modelName, { onProgress: createStderrProgressReporter() });
  const gguf = new Uint8Array(await readFile(resolved.path));
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(readGguf(gguf).metadata));
  const backend = createNodeBackend();
  const session = { executionProviders: ['cpu'] };

  if (task === 'passkey') {
    const lengths = splitNumbers('lengths', values.lengths ?? '1024,2048', { minimum: 64, maximum: 1 << 20, integer: true });
    const depths = splitNumbers('depths', values.depths ?? '0,0.25,0.5,0.75,1', { minimum: 0, maximum: 1, integer: false });
    const trials = numberOption('trials', values.trials, { minimum: 1, maximum: 1000, integer: true }) ?? 1;
    const seed = numberOption('seed', values.seed, { minimum: 0, maximum: 2 ** 31, integer: true }) ?? 0;
    const longest = Math.max(...lengths);
    const fillerTokens = tokenizeText(tokenizer, text, 2 * longest).slice(tokenizer.bosTokenId === undefined ? 0 : 1);
    const results: { method: string; evaluation: PasskeyEvaluation }[] = [];
    for (const method of methods) {
      const loaded = await loadLanguageModel({ backend, gguf, kv: method, session, ...(await kernelOption(method, attentionThreads)) });
      try {
        if (!quiet) log(`passkey: ${loaded.methodName}, lengths ${lengths.join(',')}, depths ${depths.join(',')}, ${trials} trial(s) each`);
        const evaluation = await evaluatePasskey({
          model: loaded.model,
          tokenizer,
          fillerTokens,
          lengths,
          depths,
          trials,
          seed,
          ...(quiet ? {} : { onTrial: (trial) => log(`  length ${trial.length} depth ${trial.depth}: key ${trial.passkey}, answered ${JSON.stringify(trial.generated)} ${trial.correct ? 'ok' : 'wrong'}`) }),
        });
        results.push({ method: loaded.methodName, evaluation });
      } finally {
        await loaded.model.dispose();
      }
    }
    if (values.json) {
      const report = {
        task: 'passkey',
        model: modelName,
        text: textName,
        lengths,
        depths,
        trials,
        seed,
        attention_threads: attentionThreads,
        peak_rss_bytes: peakResidentBytes(),
        methods: results.map(({ method, evaluation }) => ({ method, accuracy: evaluation.accuracy, cells: evaluation.cells, trials: evaluation.trials })),
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      process.stdout.write(`${formatPasskeyTable(results.map(({ method, evaluation }) => ({ method, cells: evaluation.cells })))}\n`);
    }
    return;
  }

  const context = numberOption('context', values.context, { minimum: 2, maximum: 1 << 20, integer: true }) ?? 1024;
  const stride = numberOption('stride', values.stride, { minimum: 1, maximum: context - 1, integer: true });
  const maxTokens = numberOption('max-tokens', values['max-tokens'], { minimum: 2, maximum: 1 << 24, integer: true }) ?? 4096;
  const tokens = tokenizeText(tokenizer, text, maxTokens);
  if (tokens.length < 2) throw usageError(`--text ${values.text} holds fewer than 2 tokens`, {});
  if (!quiet) log(`${textName}: ${tokens.length} tokens, context ${context}, ${methods.length} method(s) + the fp32 reference`);
  const { records, bitWidthMaps } = await evaluateMethods({
    backend,
    gguf,
    methods,
    tokens,
    context,
    ...(stride === undefined ? {} : { stride }),
    modelName,
    textName,
    session,
    peakResidentBytes,
    createAttentionKernel: (method) => attentionKernelFor(method, attentionThreads),
    bitWidthMaps: values.heatmap !== undefined,
    ...(quiet ? {} : { onProgress: progressBar('eval'), onLoaded: (name: string) => log(`loaded ${name}`) }),
  });
  if (values.heatmap !== undefined) {
    const maps = bitWidthMaps.filter((map) => map !== null);
    await writeFile(values.heatmap, `${JSON.stringify({ model: modelName, text: textName, context, maps })}\n`);
    if (!quiet) log(`bit-width map of ${maps.length} method(s) written to ${values.heatmap}`);
  }
  if (values.json) {
    // attention_threads: the setting its decode speed ran with (methods that attend in the compact-cache kernel).
    for (const record of records) process.stdout.write(`${JSON.stringify({ ...record, attention_threads: attentionThreads })}\n`);
  } else {
    process.stdout.write(`${formatEvaluationTable(records)}\n`);
    const reference = records[0];
    if (reference !== undefined) {
      log(`reference (fp32 cache) perplexity ${reference.ppl_reference.toFixed(3)}; ${reference.scored_tokens} tokens scored in ${reference.windows} window(s); peak RSS ${(peakResidentBytes() / 1024 ** 2).toFixed(0)} MiB`);
    }
  }
}
