/**
 * Where one decode step spends its time: builds the decoder graph of a GGUF, runs it on onnxruntime-node directly
 * (so every session option can be tried), prefills `--context` tokens, times `--steps` greedy decode steps and,
 * with --profile, aggregates ORT's profiler by operator type.
 *   node --conditions=source --import tsx bench/profile-decode.ts --model smollm2-135m --context 512 --profile
 * With `--kv <method>` and `--cpu-profile <file>`, V8's CPU profile of the decode steps alone (not the prefill) is
 * written to <file> (open it in Chrome DevTools, or summarise it with bench/summarize-cpu-profile.ts).
 * With `--kv <method>` (qaq, fp16, uniform:4 …) it profiles the segmented decoder of @qaq/runtime instead (the
 * single-thread kernel, or `--attention-threads N` Node worker threads): wall
 * milliseconds per decode step split into the attention kernel (what attend spends beyond the parts timed), the policy (observe, ‖q̃‖² estimator, decide),
 * applying plans, appending to the cache, and the rest (the ONNX segments and glue):
 *   node --conditions=source --import tsx bench/profile-decode.ts --model smollm2-135m --context 4096 --kv qaq
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOrtProfile, readOrtProfile } from '@qaq/backend-node';
import { parseArgs } from 'node:util';
import { getRegisteredModel, cachedModelPath, resolveCacheDirectory } from '@qaq/models';
import { readGguf } from '@qaq/gguf';
import { buildDecoderModel } from '@qaq/onnx-graph';
import ort from 'onnxruntime-node';
import { readGutenbergBook, tokenizeForModel } from './src/context-tokens.js';
import { createNodeBackend, type NodeSessionOptions } from '@qaq/backend-node';
import { loadLanguageModel, type CompactCacheAttention, type SegmentedLanguageModel } from '@qaq/runtime';
import { createNodeAttention } from '@qaq/attention-kernel/node-threads';
import { WasmAttention, type SplitPhaseTimes } from '@qaq/attention-kernel';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'smollm2-135m' },
    context: { type: 'string', default: '512' },
    steps: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    arena: { type: 'string', default: 'true' },
    level: { type: 'string', default: 'all' },
    config: { type: 'string', multiple: true, default: [] },
    dump: { type: 'string' },
    book: { type: 'string', default: 'austen-emma' },
    load: { type: 'string' },
    kv: { type: 'string' },
    chunk: { type: 'string', default: '512' },
    'attention-threads': { type: 'string', default: '1' },
    'cpu-profile': { type: 'string' },
  },
});
// --config key=value: onnxruntime session config entries, for either path.
const extra: Record<string, string> = {};
for (const entry of values.config) {
  const [key, value] = entry.split('=');
  extra[key!] = value!;
}
if (values.kv !== undefined && values.kv !== 'fp32') {
  await profileSegmented(values.kv);
  process.exit(0);
}
const registered = getRegisteredModel(values.model);
const bytes = new Uint8Array(readFileSync(cachedModelPath(resolveCacheDirectory(), registered.id, registered.fileName)));
const file = readGguf(bytes);
const built = buildDecoderModel(file, bytes, { lastLogitsOnly: true });
// --dump writes the ONNX model to a file (to patch it, e.g. with Python's onnx); --load runs a patched one instead.
if (values.dump !== undefined) writeFileSync(values.dump, built.model);
const modelBytes = values.load === undefined ? built.model : new Uint8Array(readFileSync(values.load));
const config = built.config;
const profilePrefix = join(tmpdir(), `qaq-profile-${process.pid}`);
const session = await ort.InferenceSession.create(modelBytes, {
  executionProviders: ['cpu'],
  intraOpNumThreads: Number(values.threads),
  graphOptimizationLevel: values.level as 'all',
  enableCpuMemArena: values.arena === 'true',
  enableProfiling: values.profile,
  profileFilePrefix: profilePrefix,
  extra,
});
const { layerCount, keyValueHeadCount: heads, headDim, vocabSize } = config;
const contextTokens = Number(values.context);
const tokenSize = heads * headDim;
const keys = Array.from({ length: layerCount }, () => new Float32Array((contextTokens + 64) * tokenSize));
const vals = Array.from({ length: layerCount }, () => new Float32Array((contextTokens + 64) * tokenSize));
let length = 0;
const logits = new Float32Array(vocabSize);
async function step(tokens: number[]): Promise<number> {
  const count = tokens.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, count]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, (_, index) => BigInt(length + index)), [1, count]),
  };
  const fetches: Record<string, ort.Tensor> = { logits: new ort.Tensor('float32', logits, [1, 1, vocabSize]) };
  for (let layer = 0; layer < layerCount; layer++) {
    const window = config.layerKinds[layer] === 'sliding' && config.slidingWindow !== null ? config.slidingWindow - 1 : length;
    const start = Math.max(0, length - window);
    for (const [kind, store] of [['key', keys], ['value', vals]] as const) {
      const buffer = store[layer]!;
      feeds[`past_${kind}.${layer}`] =
        new ort.Tensor('float32', buffer.subarray(start * tokenSize, length * tokenSize), [1, length - start, heads, headDim]);
      fetches[`${kind}.${layer}`] = new ort.Tensor('float32', buffer.subarray(length * tokenSize, (length + count) * tokenSize), [1, count, heads, headDim]);
    }
  }
  await session.run(feeds, fetches);
  length += count;
  let best = 0;
  for (let index = 1; index < vocabSize; index++) if (logits[index]! > logits[best]!) best = index;
  return best;
}
const modelPath = cachedModelPath(resolveCacheDirectory(), registered.id, registered.fileName);
const { tokens: textTokens } = await tokenizeForModel(modelPath, await readGutenbergBook(values.book), contextTokens);
const chunk = 256;
let next = 0;
const generated: number[] = [];
const prefillStart = performance.now();
for (let done = 0; done < contextTokens; done += chunk) {
  next = await step(Array.from(textTokens.subarray(done, Math.min(done + chunk, contextTokens))));
}
const prefillSeconds = (performance.now() - prefillStart) / 1000;
const cpuStart = process.cpuUsage();
const decodeStart = performance.now();
const steps = Number(values.steps);
for (let index = 0; index < steps; index++) {
  generated.push(next);
  next = await step([next]);
}
const decodeSeconds = (performance.now() - decodeStart) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuMsPerStep = (cpu.user + cpu.system) / 1000 / Number(values.steps);
console.log(JSON.stringify({ model: values.model, context: contextTokens, prefillTokensPerSecond: contextTokens / prefillSeconds, decodeTokensPerSecond: steps / decodeSeconds, msPerStep: (decodeSeconds * 1000) / steps, cpuMsPerStep, generated: generated.join(','), extra }));
if (values.profile) {
  session.endProfiling();
  const path = await findOrtProfile(profilePrefix);
  // The profile covers the prefill too: keep the decode steps' runs.
  const summary = await readOrtProfile(path, steps);
  const perStep = (microseconds: number): string => (microseconds / steps / 1000).toFixed(3).padStart(8);
  console.log(`decode: model_run ${perStep(summary.runMicroseconds)} ms/step, kernels ${perStep(summary.kernelMicroseconds)} ms/step`);
  for (const entry of summary.operators) {
    const share = ((100 * entry.microseconds) / summary.kernelMicroseconds).toFixed(1).padStart(5);
    console.log(`${entry.operator.padEnd(30)} ${perStep(entry.microseconds)} ms ${share} %  ${entry.calls / steps} nodes`);
  }
  rmSync(path);
}
await session.release();

/** Wraps `owner[name]` (a method) so its wall time adds to `totals[phase]`. */
function timeMethod(owner: object, name: string, totals: Map<string, number>, phase: string): void {
  const target = owner as Record<string, (...args: unknown[]) => unknown>;
  const original = target[name]!.bind(owner);
  totals.set(phase, 0);
  target[name] = (...args: unknown[]): unknown => {
    const started = performance.now();
    try {
      return original(...args);
    } finally {
      totals.set(phase, (totals.get(phase) ?? 0) + performance.now() - started);
    }
  };
}

async function profileSegmented(kv: string): Promise<void> {
  const registered = getRegisteredModel(values.model);
  const modelPath = cachedModelPath(resolveCacheDirectory(), registered.id, registered.fileName);
  const gguf = new Uint8Array(readFileSync(modelPath));
  const chunk = Number(values.chunk);
  const session: NodeSessionOptions = { executionProviders: ['cpu'], intraOpThreads: Number(values.threads), configEntries: extra };
  const attentionThreads = Number(values['attention-threads']);
  const kernel = attentionThreads > 1 ? await createNodeAttention({ threads: attentionThreads }) : null;
  const loaded = await loadLanguageModel({
    backend: createNodeBackend(),
    gguf,
    kv,
    prefillChunkSize: chunk,
    session,
    ...(kernel === null ? {} : { kernel }),
  });
  const model = loaded.model as SegmentedLanguageModel;
  const attention = model.attention as CompactCacheAttention;
  const totals = new Map<string, number>();
  timeMethod(attention, 'attend', totals, 'attention (all)');
  timeMethod(attention.cache, 'append', totals, 'cache append');
  timeMethod(attention.cache, 'applyPlan', totals, 'apply plan');
  // Groups re-quantized by plans (keys and values), counted during the decode steps only.
  const requantized = { count: 0 };
  const applyPlan = attention.cache.applyPlan.bind(attention.cache);
  attention.cache.applyPlan = (layer, plan): void => {
    requantized.count += plan.keys.demoteCount + plan.keys.promoteCount + plan.values.demoteCount + plan.values.promoteCount;
    applyPlan(layer, plan);
  };
  timeMethod(attention.cache, 'evictOldest', totals, 'evict');
  if (attention.policy !== null) {
    timeMethod(attention.policy, 'observe', totals, 'policy observe');
    timeMethod(attention.policy, 'decide', totals, 'policy decide');
  }
  if (attention.onlineQueryNorms !== null) timeMethod(attention.onlineQueryNorms, 'observe', totals, 'query-norm quantile');
  const contextTokens = Number(values.context);
  const { tokens } = await tokenizeForModel(modelPath, await readGutenbergBook(values.book), contextTokens);
  const prefillStarted = performance.now();
  let logits: Float32Array = new Float32Array(0);
  for (let start = 0; start < contextTokens; start += chunk) logits = await model.forward(tokens.subarray(start, Math.min(start + chunk, contextTokens)));
  const prefillSeconds = (performance.now() - prefillStarted) / 1000;
  for (const phase of totals.keys()) totals.set(phase, 0);
  // The threaded kernel's split calls, phase by phase (decode steps only).
  const splitPhases: SplitPhaseTimes | null = kernel instanceof WasmAttention ? { scores: 0, values: 0, merge: 0, calls: 0 } : null;
  if (kernel instanceof WasmAttention) kernel.splitPhaseTimes = splitPhases;
  requantized.count = 0;
  const profiler = values['cpu-profile'] === undefined ? null : await startCpuProfile();
  const steps = Number(values.steps);
  const stepTimes: number[] = [];
  const generated: number[] = [];
  for (let index = 0; index < steps; index += 1) {
    let best = 0;
    for (let token = 1; token < logits.length; token += 1) if (logits[token]! > logits[best]!) best = token;
    generated.push(best);
    const started = performance.now();
    logits = await model.forward(Int32Array.of(best));
    stepTimes.push(performance.now() - started);
  }
  if (profiler !== null) writeFileSync(values['cpu-profile'] as string, JSON.stringify(await profiler.stop()));
  const total = stepTimes.reduce((sum, time) => sum + time, 0);
  const median = [...stepTimes].sort((a, b) => a - b)[Math.floor(steps / 2)]!;
  const memory = model.memory();
  console.log(
    JSON.stringify({
      model: values.model,
      kv: loaded.methodName,
      context: contextTokens,
      prefillTokensPerSecond: contextTokens / prefillSeconds,
      msPerStep: total / steps,
      medianMsPerStep: median,
      kvLiveMiB: memory.bytes / 2 ** 20,
      kvSlackMiB: memory.slackBytes / 2 ** 20,
      requantizedGroupsPerStep: requantized.count / steps,
      slotsInTokenOrder: slotsInTokenOrder(attention),
      generated: generated.join(','),
    }),
  );
  const attentionTotal = totals.get('attention (all)') ?? 0;
  const rows: [string, number][] = [...totals.entries()].filter(([phase]) => phase !== 'attention (all)');
  const inside = rows.reduce((sum, [, time]) => sum + time, 0);
  rows.push(['kernel (attend − the above)', attentionTotal - inside]);
  if (splitPhases !== null && splitPhases.calls > 0) {
    // Inside the kernel's row: split calls' phases (calls over 2 × the threads' minimum chunk run split).
    rows.push(['  of which split scores', splitPhases.scores], ['  of which split values', splitPhases.values], ['  of which split merge', splitPhases.merge]);
  }
  rows.push(['ONNX segments and glue', total - attentionTotal]);
  for (const [phase, time] of rows) {
    console.log(`${phase.padEnd(26)} ${(time / steps).toFixed(2).padStart(8)} ms/step ${((100 * time) / total).toFixed(1).padStart(5)} %`);
  }
  await model.dispose();
}

/**
 * The share of packed groups (keys and values, every layer) whose slot directly follows the slot of the previous
 * token's group at the same width: 1 when each width's pool holds its tokens in token order, near 0 when demotions
 * have scattered them (the kernel then reads its pools out of order).
 */
function slotsInTokenOrder(attention: CompactCacheAttention): number {
  let followers = 0;
  let packed = 0;
  for (let layer = 0; layer < attention.cache.config.layers; layer += 1) {
    for (const kind of ['keys', 'values'] as const) {
      const store = attention.cache.store(kind, layer);
      const { slots } = store;
      const lastSlot = new Map<number, number>();
      for (let group = 0; group < store.groupCount; group += 1) {
        const width = store.bitsOf(group);
        if (width === 16) continue;
        const slot = slots[group] as number;
        if (lastSlot.get(width) === slot - 1) followers += 1;
        lastSlot.set(width, slot);
        packed += 1;
      }
    }
  }
  return packed === 0 ? 1 : followers / packed;
}

/** Starts V8's sampling profiler in this thread; `stop()` returns the profile (the .cpuprofile JSON). */
async function startCpuProfile(): Promise<{ stop(): Promise<object> }> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}
