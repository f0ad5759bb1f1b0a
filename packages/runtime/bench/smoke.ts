import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createNodeBackend } from '@qaq/backend-node';
import { loadLanguageModel } from '../src/index.js';

const gguf = new Uint8Array(readFileSync(`${homedir()}/.cache/qaq/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf`));
const backend = createNodeBackend();
const tokens = Int32Array.from({ length: 40 }, (_, i) => 100 + i * 7);
for (const kv of ['fp32', 'fp16', 'qaq']) {
  const t0 = performance.now();
  const { model } = await loadLanguageModel({ backend, gguf, kv, session: { intraOpThreads: 1 }, prefillChunkSize: 16 });
  const t1 = performance.now();
  const logits = Float32Array.from(await model.forward(tokens));
  const t2 = performance.now();
  let last = logits;
  for (let i = 0; i < 8; i++) last = await model.forward(Int32Array.of(200 + i));
  const t3 = performance.now();
  console.log(kv, 'load', (t1 - t0).toFixed(0), 'prefill', (t2 - t1).toFixed(0), 'decode/tok', ((t3 - t2) / 8).toFixed(1), logits.slice(0, 4), last.slice(0, 3), model.memory());
  await model.dispose();
}
