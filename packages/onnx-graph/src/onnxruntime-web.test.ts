import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web/wasm';
import { readGguf } from '@qaq/gguf';
import { buildDecoderModel } from './build-decoder.js';
import { modelAvailable, readModelBytes } from './testing/model-files.test-utils.js';

describe('onnxruntime-web (wasm EP, inside Node)', () => {
  it.runIf(modelAvailable('smollm2'))('loads the SmolLM2 decoder and agrees with onnxruntime-node', async () => {
    const bytes = readModelBytes('smollm2');
    const built = buildDecoderModel(readGguf(bytes), bytes, { lastLogitsOnly: true });
    const { layerCount, keyValueHeadCount, headDim } = built.config;
    const ids = [1, 504, 3458, 282, 4649];
    type AnyTensor = ortNode.Tensor | ortWeb.Tensor;
    const feedsFor = (make: (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => AnyTensor) => {
      const feeds: Record<string, AnyTensor> = {
        input_ids: make('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        position_ids: make('int64', BigInt64Array.from(ids, (_, index) => BigInt(index)), [1, ids.length]),
      };
      for (let layer = 0; layer < layerCount; layer++) {
        feeds[`past_key.${layer}`] = make('float32', new Float32Array(0), [1, 0, keyValueHeadCount, headDim]);
        feeds[`past_value.${layer}`] = make('float32', new Float32Array(0), [1, 0, keyValueHeadCount, headDim]);
      }
      return feeds;
    };
    ortWeb.env.wasm.numThreads = 1;
    const web = await ortWeb.InferenceSession.create(built.model, { executionProviders: ['wasm'] });
    const webLogits = (await web.run(feedsFor((type, data, dims) => new ortWeb.Tensor(type, data, dims)) as Record<string, ortWeb.Tensor>))['logits']!
      .data as Float32Array;
    const node = await ortNode.InferenceSession.create(built.model);
    const nodeLogits = (await node.run(feedsFor((type, data, dims) => new ortNode.Tensor(type, data, dims)) as Record<string, ortNode.Tensor>))['logits']!
      .data as Float32Array;
    expect(webLogits.length).toBe(built.config.vocabSize);
    let largest = 0;
    let difference = 0;
    nodeLogits.forEach((value, index) => {
      largest = Math.max(largest, Math.abs(value));
      difference = Math.max(difference, Math.abs(value - webLogits[index]!));
    });
    expect(difference / largest).toBeLessThan(1e-4);
    await web.release();
    await node.release();
  });
});
