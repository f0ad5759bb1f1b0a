// Decode speed after a real-text context, per KV method, on one warm process:
// node --conditions=source --import tsx packages/runtime/bench/decode-speed.ts <smollm2|gemma3> <contextTokens> <steps> <method>...
// Prints median and mean ms per decode step (tok/s), the share spent in the segmented path's attention strategy
// (append + kernel + policy), and the KV memory line.
import { loadavg } from 'node:os';
import { createNodeBackend } from '@qaq/backend-node';
import { createLayerAttention, loadLanguageModel, loadSegmentedModel, parseKvMethod, type LayerAttention, type RuntimeLanguageModel } from '../src/index.js';
import { argmax, bookTokens, readModel, type ModelName } from '../src/model-files.test-utils.js';

const [modelName = 'smollm2', contextText = '1024', stepsText = '32', ...methods] = process.argv.slice(2);
const contextLength = Number(contextText);
const steps = Number(stepsText);
const gguf = readModel(modelName as ModelName);
const backend = createNodeBackend();
const session = { intraOpThreads: Number(process.env['THREADS'] ?? 1) };
const context = bookTokens(gguf, 'melville-moby_dick', contextLength, 10_000);

/** Times every attend() of a strategy. */
function timed(inner: LayerAttention, clock: { ms: number }): LayerAttention {
  return {
    name: inner.name,
    attend(layer, query, key, value, tokenCount, output) {
      const started = performance.now();
      inner.attend(layer, query, key, value, tokenCount, output);
      clock.ms += performance.now() - started;
    },
    tokenCount: (layer) => inner.tokenCount(layer),
    reset: () => inner.reset(),
    memory: () => inner.memory(),
    dispose: () => inner.dispose(),
  };
}

console.log(`model ${modelName}, context ${contextLength}, ${steps} steps, intra-op threads ${session.intraOpThreads}, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (const kv of methods) {
  const method = parseKvMethod(kv);
  const clock = { ms: 0 };
  const model: RuntimeLanguageModel =
    method.kind === 'fp32'
      ? (await loadLanguageModel({ backend, gguf, kv: method, session })).model
      : (
          await loadSegmentedModel({
            backend,
            gguf,
            session,
            prefillChunkSize: 128,
            createAttention: async (config) => timed(await createLayerAttention(method, config), clock),
          })
        ).model;
  const prefillStarted = performance.now();
  let logits: Float32Array = new Float32Array(0);
  // The dense graph materialises [heads, S, P] scores: feed it 256 tokens at a time too.
  for (let start = 0; start < context.length; start += 256) logits = await model.forward(context.subarray(start, start + 256));
  const prefillMs = performance.now() - prefillStarted;
  const times: number[] = [];
  clock.ms = 0;
  for (let step = 0; step < steps; step++) {
    const started = performance.now();
    logits = await model.forward(Int32Array.of(argmax(logits)));
    times.push(performance.now() - started);
  }
  const attentionMs = clock.ms / steps;
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] as number;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const memory = model.memory();
  console.log(
    `${kv.padEnd(22)} decode median ${median.toFixed(1)} ms (${(1000 / median).toFixed(1)} tok/s), mean ${mean.toFixed(1)} ms; ` +
      `attention strategy ${attentionMs.toFixed(1)} ms/step; prefill ${((context.length / prefillMs) * 1000).toFixed(0)} tok/s; ` +
      `KV ${(memory.bytes / 1024 / 1024).toFixed(2)} MiB vs fp16 ${(memory.fp16Bytes / 1024 / 1024).toFixed(2)} MiB, ${memory.bitsPerElement.toFixed(2)} bits/element; ` +
      `load ${loadavg()[0]?.toFixed(2)}`,
  );
  await model.dispose();
}
