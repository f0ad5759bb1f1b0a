/**
 * Bare `session.run` time of one decode step (S = 1, every layer given P past tokens), without the test runner's
 * cache bookkeeping. Usage:
 * node --conditions=source --import tsx packages/onnx-graph/bench/session-run.ts [smollm2|gemma3] [nbits|fp32] [threads] [P]
 */
import * as ort from 'onnxruntime-node';
import { readGguf } from '@qaq/gguf';
import { buildDecoderModel } from '../src/build-decoder.js';
import { readModelBytes, type ModelName } from '../src/testing/model-files.test-utils.js';

const name = (process.argv[2] ?? 'smollm2') as ModelName;
const format = (process.argv[3] ?? 'nbits') as 'nbits' | 'fp32';
const threads = Number(process.argv[4] ?? 1);
const past = Number(process.argv[5] ?? 80);
const bytes = readModelBytes(name);
const built = buildDecoderModel(readGguf(bytes), bytes, { weightFormat: format, lastLogitsOnly: true });
const session = await ort.InferenceSession.create(built.model, { intraOpNumThreads: threads });
const { layerCount, keyValueHeadCount, headDim } = built.config;
const feeds: Record<string, ort.Tensor> = {
  input_ids: new ort.Tensor('int64', BigInt64Array.from([100n]), [1, 1]),
  position_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(past)]), [1, 1]),
};
for (let layer = 0; layer < layerCount; layer++) {
  const data = Float32Array.from({ length: past * keyValueHeadCount * headDim }, (_, index) => Math.sin(index));
  feeds[`past_key.${layer}`] = new ort.Tensor('float32', data, [1, past, keyValueHeadCount, headDim]);
  feeds[`past_value.${layer}`] = new ort.Tensor('float32', data, [1, past, keyValueHeadCount, headDim]);
}
const times: number[] = [];
for (let step = 0; step < 40; step++) {
  const start = performance.now();
  await session.run(feeds);
  if (step >= 5) times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ model: name, format, threads, past, medianMs: +times[times.length >> 1]!.toFixed(2), bestMs: +times[0]!.toFixed(2) }));
await session.release();
