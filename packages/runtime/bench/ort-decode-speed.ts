// Decode speed and KV bytes of onnxruntime's built-in quantized cache (ort-int4, ort-int8) beside other methods, each
// loaded through loadLanguageModel in one warm process, after the same real-text context:
// node --conditions=source --import tsx packages/runtime/bench/ort-decode-speed.ts <smollm2|gemma3> <contextTokens> <steps> <method>...
// e.g. … ort-decode-speed.ts smollm2 2048 24 fp32 ort-int8 ort-int4 qaq
// Prints median and mean ms per decode step (tok/s), prefill tok/s (chunks of 128), live KV bytes and the slack of
// preallocated capacity. THREADS sets intra-op threads (default 1).
import { loadavg } from 'node:os';
import { createNodeBackend } from '@qaq/backend-node';
import { loadLanguageModel } from '../src/index.js';
import { argmax, bookTokens, readModel, type ModelName } from '../src/model-files.test-utils.js';

const [modelName = 'smollm2', contextText = '2048', stepsText = '24', ...methods] = process.argv.slice(2);
const steps = Number(stepsText);
const gguf = readModel(modelName as ModelName);
const backend = createNodeBackend();
const session = { intraOpThreads: Number(process.env['THREADS'] ?? 1) };
const context = bookTokens(gguf, 'melville-moby_dick', Number(contextText), 10_000);
const mebibytes = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);

console.log(`model ${modelName}, context ${context.length}, ${steps} steps, intra-op threads ${session.intraOpThreads}, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (const kv of methods.length > 0 ? methods : ['fp32', 'ort-int8', 'ort-int4', 'qaq']) {
  const { model } = await loadLanguageModel({ backend, gguf, kv, session, prefillChunkSize: 128 });
  const prefillStarted = performance.now();
  let logits: Float32Array = new Float32Array(0);
  // The dense graph materialises [heads, S, P] scores: every method gets the context 128 tokens at a time.
  for (let start = 0; start < context.length; start += 128) logits = await model.forward(context.subarray(start, start + 128));
  const prefillMs = performance.now() - prefillStarted;
  const times: number[] = [];
  for (let step = 0; step < steps; step++) {
    const started = performance.now();
    logits = await model.forward(Int32Array.of(argmax(logits)));
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const memory = model.memory();
  console.log(
    `${kv.padEnd(10)} decode median ${median.toFixed(1)} ms (${(1000 / median).toFixed(1)} tok/s), mean ${mean.toFixed(1)} ms; ` +
      `prefill ${((context.length / prefillMs) * 1000).toFixed(0)} tok/s; KV ${mebibytes(memory.bytes)} MiB live ` +
      `(+${mebibytes(memory.slackBytes)} MiB slack) vs fp16 ${mebibytes(memory.fp16Bytes)} MiB, ${memory.bitsPerElement.toFixed(2)} bits/element; ` +
      `load ${loadavg()[0]?.toFixed(2)}`,
  );
  await model.dispose();
}
