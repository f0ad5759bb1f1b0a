// Teacher-forced quality of KV methods against the dense fp32 path on real text:
// node --conditions=source --import tsx packages/runtime/bench/quality-sweep.ts <smollm2|gemma3> <steps> <method>...
import { createNodeBackend } from '@qaq/backend-node';
import { loadLanguageModel } from '../src/index.js';
import { argmax, bookTokens, klDivergence, logSoftmax, readModel, type ModelName } from '../src/model-files.test-utils.js';

const [modelName = 'smollm2', stepsText = '100', ...methods] = process.argv.slice(2);
const steps = Number(stepsText);
const gguf = readModel(modelName as ModelName);
const backend = createNodeBackend();
const session = { intraOpThreads: 1 };
const context = bookTokens(gguf, 'melville-moby_dick', 128, 20_000);
const dense = await loadLanguageModel({ backend, gguf, kv: 'fp32', session });
const continuation: number[] = [];
const referenceLog: Float64Array[] = [];
let logits = await dense.model.forward(context);
for (let step = 0; step < steps; step++) {
  referenceLog.push(logSoftmax(logits));
  continuation.push(argmax(logits));
  logits = await dense.model.forward(Int32Array.of(continuation[step] as number));
}
await dense.model.dispose();
for (const kv of methods) {
  const loaded = await loadLanguageModel({ backend, gguf, kv, session, prefillChunkSize: 64 });
  let agree = 0;
  let klSum = 0;
  const started = performance.now();
  logits = await loaded.model.forward(context);
  for (let step = 0; step < steps; step++) {
    if (argmax(logits) === continuation[step]) agree += 1;
    klSum += klDivergence(referenceLog[step] as Float64Array, logSoftmax(logits));
    logits = await loaded.model.forward(Int32Array.of(continuation[step] as number));
  }
  const memory = loaded.model.memory();
  console.log(
    `${loaded.methodName.padEnd(40)} top1 ${(agree / steps).toFixed(3)} meanKL ${(klSum / steps).toFixed(4)} bits/elem ${memory.bitsPerElement.toFixed(3)} ` +
      `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  await loaded.model.dispose();
}
