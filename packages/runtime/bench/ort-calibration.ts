// How to calibrate the per-channel scales of onnxruntime's quantized GroupQueryAttention cache (ort-int4/ort-int8):
// teacher-forced on the fp32 model's greedy continuation after a real-text prompt, mean KL(fp32 ‖ method) and top-1
// agreement per calibration: the prompt's first chunk (128 tokens) with margins 1.0 / 1.25 / 1.5, or fixed scales from
// the first 128 tokens of a different book (Austen) with margin 1.25.
// node --conditions=source --import tsx packages/runtime/bench/ort-calibration.ts <smollm2|gemma3> <promptTokens> <steps>
// BITS=8,4 and MARGINS=1,1.25,1.5 choose what runs; OTHER_TEXT=0 skips the other-text calibration; KEY_BOUNDS=
// channel,rotary-pair compares the key bounds (default channel only).
import { loadavg } from 'node:os';
import { createNodeBackend } from '@qaq/backend-node';
import { loadLanguageModel, loadOrtQuantizedModel, type KvChannelScales, type RuntimeLanguageModel } from '../src/index.js';
import { argmax, bookTokens, klDivergence, logSoftmax, readModel, type ModelName } from '../src/model-files.test-utils.js';

const [modelName = 'smollm2', promptText = '256', stepsText = '64'] = process.argv.slice(2);
const steps = Number(stepsText);
const gguf = readModel(modelName as ModelName);
const backend = createNodeBackend();
const session = { intraOpThreads: Number(process.env['THREADS'] ?? 1) };
const prompt = bookTokens(gguf, 'melville-moby_dick', Number(promptText), 10_000);
const calibrationText = bookTokens(gguf, 'austen-emma', 128);

/** Logits after the prompt and after each teacher-forced token. */
async function trajectory(model: RuntimeLanguageModel, forced: Int32Array | undefined): Promise<{ logits: Float32Array[]; tokens: Int32Array }> {
  model.reset();
  const logits: Float32Array[] = [];
  let current = Float32Array.from(await model.forward(prompt));
  const tokens = new Int32Array(steps);
  for (let step = 0; step < steps; step++) {
    logits.push(current);
    tokens[step] = forced?.[step] ?? argmax(current);
    current = Float32Array.from(await model.forward(Int32Array.of(tokens[step]!)));
  }
  return { logits, tokens };
}

console.log(`model ${modelName}, prompt ${prompt.length} tokens, ${steps} teacher-forced steps, load ${loadavg()[0]?.toFixed(2)}`);
const dense = (await loadLanguageModel({ backend, gguf, kv: 'fp32', session })).model;
const reference = await trajectory(dense, undefined);
await dense.dispose();
const referenceLog = reference.logits.map((logits) => logSoftmax(logits));

async function score(
  label: string,
  bits: 4 | 8,
  options: { scaleMargin?: number; scales?: KvChannelScales; keyBound?: 'rotary-pair' | 'channel' },
): Promise<void> {
  const { model } = await loadOrtQuantizedModel({ backend, gguf, bits, session, ...options });
  const run = await trajectory(model, reference.tokens);
  let kl = 0;
  let agree = 0;
  run.logits.forEach((logits, step) => {
    kl += klDivergence(referenceLog[step]!, logSoftmax(logits));
    if (argmax(logits) === argmax(reference.logits[step]!)) agree++;
  });
  console.log(`ort-int${bits} ${label.padEnd(46)} mean KL ${(kl / steps).toFixed(4)}, top-1 ${(agree / steps).toFixed(3)}`);
  await model.dispose();
}

const bitWidths = (process.env['BITS'] ?? '8,4').split(',').map((text) => Number(text) as 4 | 8);
const margins = (process.env['MARGINS'] ?? '1,1.25,1.5').split(',').map(Number);
const keyBounds = (process.env['KEY_BOUNDS'] ?? 'channel').split(',') as ('rotary-pair' | 'channel')[];
for (const bits of bitWidths) {
  for (const keyBound of keyBounds) {
    for (const margin of margins) await score(`first chunk, ${keyBound}, margin ${margin}`, bits, { scaleMargin: margin, keyBound });
  }
  if (process.env['OTHER_TEXT'] === '0') continue;
  const { model: calibrator } = await loadOrtQuantizedModel({ backend, gguf, bits, session, scaleMargin: 1.25 });
  await calibrator.forward(calibrationText);
  const scales = calibrator.scales();
  await calibrator.dispose();
  await score('other text (Austen), margin 1.25', bits, { scales });
}
