/**
 * Build time, model size, prefill and decode speed of the generated decoder on onnxruntime-node (CPU EP).
 * Usage: node --conditions=source --import tsx packages/onnx-graph/bench/decoder-speed.ts [smollm2|gemma3] [nbits|fp32] [threads]
 */
import { readGguf } from '@qaq/gguf';
import { buildDecoderModel } from '../src/build-decoder.js';
import { DecoderRunner } from '../src/testing/decoder-runner.test-utils.js';
import { readModelBytes, type ModelName } from '../src/testing/model-files.test-utils.js';

const name = (process.argv[2] ?? 'smollm2') as ModelName;
const format = (process.argv[3] ?? 'nbits') as 'nbits' | 'fp32';
const threads = Number(process.argv[4] ?? 2);
const prefillLength = 64;
const decodeSteps = 32;

const bytes = readModelBytes(name);
const file = readGguf(bytes);
let start = performance.now();
const built = buildDecoderModel(file, bytes, { weightFormat: format, lastLogitsOnly: true });
const buildMs = performance.now() - start;
start = performance.now();
const runner = await DecoderRunner.create(built.model, built.config, prefillLength + decodeSteps + 8, threads);
const sessionMs = performance.now() - start;
const tokens = Array.from({ length: prefillLength }, (_, index) => 100 + ((index * 7919) % 5000));

const prefillTimes: number[] = [];
for (let repeat = 0; repeat < 3; repeat++) {
  runner.reset();
  start = performance.now();
  await runner.run(tokens);
  prefillTimes.push(performance.now() - start);
}
const decodeTimes: number[] = [];
for (let step = 0; step < decodeSteps; step++) {
  start = performance.now();
  await runner.run([200 + step]);
  decodeTimes.push(performance.now() - start);
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  JSON.stringify({
    model: name,
    format,
    threads,
    buildMs: Math.round(buildMs),
    modelMB: +(built.model.length / 1e6).toFixed(1),
    sessionMs: Math.round(sessionMs),
    prefillTokensPerSecond: +((prefillLength * 1000) / median(prefillTimes)).toFixed(1),
    decodeTokensPerSecond: +(1000 / median(decodeTimes)).toFixed(1),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
  }),
);
await runner.release();
