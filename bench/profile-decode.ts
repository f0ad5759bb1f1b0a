/**
 * Where one decode step spends its time: builds the decoder graph of a GGUF, runs it on onnxruntime-node directly
 * (so every session option can be tried), prefills `--context` tokens, times `--steps` greedy decode steps and,
 * with --profile, aggregates ORT's profiler by operator type.
 *   node --conditions=source --import tsx bench/profile-decode.ts --model smollm2-135m --context 512 --profile
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
  },
});
const registered = getRegisteredModel(values.model);
const bytes = new Uint8Array(readFileSync(cachedModelPath(resolveCacheDirectory(), registered.id, registered.fileName)));
const file = readGguf(bytes);
const built = buildDecoderModel(file, bytes, { lastLogitsOnly: true });
// --dump writes the ONNX model to a file (to patch it, e.g. with Python's onnx); --load runs a patched one instead.
if (values.dump !== undefined) writeFileSync(values.dump, built.model);
const modelBytes = values.load === undefined ? built.model : new Uint8Array(readFileSync(values.load));
const config = built.config;
const extra: Record<string, string> = {};
for (const entry of values.config) {
  const [key, value] = entry.split('=');
  extra[key!] = value!;
}
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
