/**
 * Decode speed of the app's model on onnxruntime-web's wasm EP, run inside Node (same runtime and graph builder as
 * the browser, no browser): SmolLM2-135M, one KV method, a short prompt, greedy decode, per weight variant.
 *
 *   node --conditions=source --import tsx apps/web/scripts/measure-wasm-decode.ts \
 *     [--variants nbits:0,nbits:4,fp32] [--kv fp16] [--prompt-tokens 32] [--steps 8] [--threads 1]
 *
 * A variant is `nbits:<MatMulNBits accuracy level>`, `fp32` (weights dequantized into plain MatMul) or
 * `dequantize-linear` (4-bit weights as DequantizeLinear + FusedMatMul, folded to fp32 at session creation through
 * the session config `session.disable_quant_qdq = 1`: the app's default on wasm).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createWebBackend, type WebSessionOptions } from '@qaq/backend-web';
import { loadLanguageModel, type LoadLanguageModelOptions } from '@qaq/runtime';
import { defaultModelPath, modelsDirectory } from './app-server.js';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: 'nbits:0,nbits:4,fp32' },
    kv: { type: 'string', default: 'fp16' },
    'prompt-tokens': { type: 'string', default: '32' },
    steps: { type: 'string', default: '8' },
    threads: { type: 'string', default: '1' },
  },
});
const promptTokens = Number(values['prompt-tokens']);
const steps = Number(values.steps);
const gguf = new Uint8Array(readFileSync(join(modelsDirectory(), defaultModelPath.slice('/models/'.length))));
const foldDequantizeLinear: WebSessionOptions = { configEntries: { 'session.disable_quant_qdq': '1' } };
const backend = await createWebBackend({ providers: ['wasm'], numThreads: Number(values.threads) });

function argmax(values: Float32Array): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if (values[index]! > values[best]!) best = index;
  return best;
}

for (const variant of (values.variants ?? '').split(',')) {
  const [format, level] = variant.split(':');
  const started = performance.now();
  const loaded = await loadLanguageModel({
    backend,
    gguf,
    kv: values.kv,
    weightFormat: format === 'fp32' ? 'fp32' : 'nbits',
    ...(format === 'dequantize-linear'
      ? { nbitsOperator: 'dequantize-linear' as const, session: foldDequantizeLinear }
      : {}),
    ...(format !== 'nbits' ? {} : { matMulNBitsAccuracyLevel: Number(level ?? 0) as NonNullable<LoadLanguageModelOptions['matMulNBitsAccuracyLevel']> }),
  });
  const loadSeconds = (performance.now() - started) / 1000;
  const model = loaded.model;
  // A fixed pseudo-prompt of ordinary token ids (the speed does not depend on the text).
  const prompt = Int32Array.from({ length: promptTokens }, (_, index) => 1 + ((index * 7919) % 8000));
  const prefillStarted = performance.now();
  let logits = await model.forward(prompt);
  const prefillSeconds = (performance.now() - prefillStarted) / 1000;
  const stepMilliseconds: number[] = [];
  const generated: number[] = [];
  for (let step = 0; step < steps; step++) {
    const next = argmax(logits.subarray(logits.length - model.vocabularySize));
    generated.push(next);
    const stepStarted = performance.now();
    logits = await model.forward(Int32Array.of(next));
    stepMilliseconds.push(performance.now() - stepStarted);
  }
  stepMilliseconds.sort((a, b) => a - b);
  const median = stepMilliseconds[Math.floor(stepMilliseconds.length / 2)]!;
  console.log(
    `${variant} kv ${loaded.methodName}: load ${loadSeconds.toFixed(1)} s, graphs ${(loaded.graphBytes / 1e6).toFixed(0)} MB, ` +
      `prefill ${promptTokens} tokens ${(promptTokens / prefillSeconds).toFixed(1)} tok/s, ` +
      `decode median ${median.toFixed(0)} ms/step = ${(1000 / median).toFixed(2)} tok/s (${steps} steps), greedy ${generated.join(' ')}`,
  );
  await model.dispose();
}
