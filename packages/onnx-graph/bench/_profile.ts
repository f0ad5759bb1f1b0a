import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { readGguf } from '@qaq/gguf';
import { buildDecoderModel } from '/work/main/packages/onnx-graph/src/build-decoder.js';
import { readModelBytes } from '/work/main/packages/onnx-graph/src/testing/model-files.test-utils.js';
const name = (process.argv[2] ?? 'smollm2') as 'smollm2';
const format = (process.argv[3] ?? 'nbits') as 'nbits';
const S = Number(process.argv[4] ?? 1);
const bytes = readModelBytes(name);
const built = buildDecoderModel(readGguf(bytes), bytes, { weightFormat: format, lastLogitsOnly: true });
const session = await ort.InferenceSession.create(built.model, { intraOpNumThreads: 2, enableProfiling: true, profileFilePrefix: '/tmp/ortprof' });
const { layerCount, keyValueHeadCount, headDim } = built.config;
const feeds: Record<string, ort.Tensor> = {
  input_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(100 + i)), [1, S]),
  position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(64 + i)), [1, S]),
};
for (let l = 0; l < layerCount; l++) {
  feeds[`past_key.${l}`] = new ort.Tensor('float32', new Float32Array(64 * keyValueHeadCount * headDim), [1, 64, keyValueHeadCount, headDim]);
  feeds[`past_value.${l}`] = new ort.Tensor('float32', new Float32Array(64 * keyValueHeadCount * headDim), [1, 64, keyValueHeadCount, headDim]);
}
for (let i = 0; i < 10; i++) await session.run(feeds);
const file = session.endProfiling?.() ;
await session.release();
