import { readFileSync } from 'node:fs';
import { createNodeBackend } from '@qaq/backend-node';
import { loadDecoder } from '@qaq/runtime';
const threads = Number(process.argv[2] ?? '1');
const gguf = new Uint8Array(readFileSync(`${process.env.HOME}/.cache/qaq/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf`));
const { model } = await loadDecoder({ backend: createNodeBackend(), gguf, session: { executionProviders: ['cpu'], intraOpThreads: threads } });
await model.forward(Int32Array.from({ length: 256 }, (_, i) => 100 + i));
let token = 5;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < 32; i++) {
  const logits = await model.forward(Int32Array.of(token));
  let best = 0;
  for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
  token = best;
}
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ threads, msPerStep: (performance.now() - t0) / 32, cpuMsPerStep: (cpu.user + cpu.system) / 1000 / 32 }));
