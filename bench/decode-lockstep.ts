/**
 * Decode speed of several KV methods in one process, their steps interleaved: every engine prefills the same
 * context, then each round decodes one token with every engine in turn (the order rotating per round), so all of
 * them meet the same machine — on a shared VM whose speed drifts by 20–30 % within minutes, engines run one after
 * the other (bench/inference-speed.ts) are compared across different conditions. Reports per engine the mean and
 * median step and, against each other engine, the median over rounds of the per-round ratio of step times.
 *
 * One engine's garbage must not be collected in another's step (the in-graph engines hand onnxruntime whole caches
 * every step): run node with --expose-gc and every timed step starts after a full collection, outside its time.
 *
 * Usage: node --expose-gc --conditions=source --import tsx bench/decode-lockstep.ts [--model smollm2-135m] [--context 7168]
 *          [--kv fp32,ort-int4,qaq:lean] [--decode 64] [--threads 2] [--attention-threads 2] [--chunk 512]
 *          [--book austen-emma]
 *
 * An engine may carry its own threads after `@`: `qaq:lean@1` runs onnxruntime with 1 intra-op thread, and
 * `qaq:lean@1s400000` also lets the kernel's idle worker poll 400,000 times before it sleeps
 * (KernelThreadsOptions.spinPolls; default 0), so that a layer's call need not wake it.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { cachedModelPath, getRegisteredModel, resolveCacheDirectory } from '@qaq/models';
import { createQaqEngine, type QaqEngine } from './src/qaq-engine.js';
import { readGutenbergBook, tokenizeForModel } from './src/context-tokens.js';
import { cpuDescription, positiveIntegerArgument } from './src/worker-process.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'smollm2-135m' },
    context: { type: 'string', default: '7168' },
    kv: { type: 'string', default: 'fp32,ort-int4,qaq:lean' },
    decode: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    'attention-threads': { type: 'string', default: '2' },
    chunk: { type: 'string', default: '512' },
    book: { type: 'string', default: 'austen-emma' },
  },
});

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const methods = (values.kv ?? '').split(',').filter((method) => method.length > 0);
const decodeSteps = positiveIntegerArgument(values.decode ?? '', 'decode');
const threads = positiveIntegerArgument(values.threads ?? '', 'threads');
const attentionThreads = positiveIntegerArgument(values['attention-threads'] ?? '', 'attention-threads');
const prefillChunk = positiveIntegerArgument(values.chunk ?? '', 'chunk');
const registered = getRegisteredModel(values.model ?? '');
const modelPath = cachedModelPath(resolveCacheDirectory(), registered.id, registered.fileName);
const requested = positiveIntegerArgument(values.context ?? '', 'context');
const { tokens, contextLength } = await tokenizeForModel(modelPath, await readGutenbergBook(values.book ?? ''), requested);
const contextTokens = Math.min(requested, contextLength - decodeSteps - 8);
const context = tokens.slice(0, contextTokens);

/** `method[@threads[s<polls>]]`: the runtime's method and this engine's own threads (see the usage above). */
function engineOptions(label: string): { readonly kv: string; readonly threads: number; readonly attentionSpinPolls?: number } {
  const at = label.lastIndexOf('@');
  if (at < 0) return { kv: label, threads };
  const match = /^(\d+)(?:s(\d+))?$/.exec(label.slice(at + 1));
  if (match === null) throw new Error(`engine ${label}: expected method@<threads>[s<polls>]`);
  const engineThreads = positiveIntegerArgument(match[1] as string, `threads of ${label}`);
  return { kv: label.slice(0, at), threads: engineThreads, ...(match[2] === undefined ? {} : { attentionSpinPolls: Number(match[2]) }) };
}

const collectGarbage = (globalThis as { gc?: () => void }).gc;
if (collectGarbage === undefined) console.error('without --expose-gc: an engine may pay for another\'s garbage');
const started = new Date();
const loadBefore = loadavg()[0] ?? 0;
const engines: { readonly method: string; readonly engine: QaqEngine; token: number; readonly steps: number[]; readonly decoded: number[] }[] = [];
for (const method of methods) {
  const engine = await createQaqEngine({ modelPath, prefillChunk, allowSpinning: undefined, attentionThreads, ...engineOptions(method) });
  // Warm-up on a short prefix, as bench/src/run-measurement.ts does, then the real prefill.
  await engine.prefill(context.subarray(0, 64));
  await engine.decodeStep(context[64] as number);
  await engine.reset();
  const prefillStart = performance.now();
  await engine.prefill(context.subarray(0, contextTokens - 1));
  const prefillSeconds = (performance.now() - prefillStart) / 1000;
  console.error(`${method}: prefilled ${contextTokens - 1} tokens in ${prefillSeconds.toFixed(1)} s`);
  engines.push({ method, engine, token: context[contextTokens - 1] as number, steps: [], decoded: [] });
}
for (let round = 0; round < decodeSteps; round += 1) {
  for (let turn = 0; turn < engines.length; turn += 1) {
    const entry = engines[(round + turn) % engines.length] as (typeof engines)[number];
    collectGarbage?.();
    const stepStart = performance.now();
    entry.token = await entry.engine.decodeStep(entry.token);
    entry.steps.push(performance.now() - stepStart);
    entry.decoded.push(entry.token);
  }
}
const loadAfter = loadavg()[0] ?? 0;

const lines = [
  `Decode in lockstep: ${registered.id}, ${contextTokens} tokens of context, ${decodeSteps} rounds of one step per engine (order rotating)`,
  `${started.toISOString()}; ${cpuDescription()}; load ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}; ` +
    `${threads} intra-op threads, ${attentionThreads} kernel threads, prefill chunk ${prefillChunk}; Node ${process.version}; ` +
    `${collectGarbage === undefined ? 'no collection between steps' : 'a full collection before every step'}`,
  `command: node ${collectGarbage === undefined ? '' : '--expose-gc '}--conditions=source --import tsx bench/decode-lockstep.ts ${process.argv.slice(2).join(' ')}`.trim(),
  '',
  '| method | tok/s (mean step) | median step ms | ' + engines.map((entry) => `step / \`${entry.method}\` (median of rounds)`).join(' | ') + ' |',
  '| --- | ---: | ---: | ' + engines.map(() => '---:').join(' | ') + ' |',
];
for (const entry of engines) {
  const mean = entry.steps.reduce((sum, value) => sum + value, 0) / entry.steps.length;
  const ratios = engines.map((other) => median(entry.steps.map((value, index) => value / (other.steps[index] as number))).toFixed(2));
  lines.push(`| \`${entry.method}\` | ${(1000 / mean).toFixed(1)} | ${median(entry.steps).toFixed(1)} | ${ratios.join(' | ')} |`);
}
console.log(lines.join('\n'));
console.log(JSON.stringify({ started: started.toISOString(), contextTokens, decodeSteps, engines: engines.map(({ method, steps, decoded }) => ({ method, steps, decoded })) }));
for (const { engine } of engines) await engine.dispose();
