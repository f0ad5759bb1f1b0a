import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web/wasm';
import { QaqError } from '@qaq/errors';
import { readGguf } from '@qaq/gguf';
import { buildDecoderModel } from './build-decoder.js';
import { contiguousNibbles } from './decoder-ops.js';
import { readModelOperators } from './onnx/read-model-operators.js';
import { modelAvailable, readModelBytes } from './testing/model-files.test-utils.js';
import { linearSettings } from './weight-format.js';

describe("nbitsOperator 'dequantize-linear'", () => {
  it('repacks row-padded nibbles into one contiguous stream', () => {
    // 2 rows of 3 nibbles, padded to 2 bytes each: row 0 = 1, 2, 3; row 1 = 4, 5, 6.
    const padded = Uint8Array.of(0x21, 0x03, 0x54, 0x06);
    expect(Array.from(contiguousNibbles(padded, 2, 3))).toEqual([0x21, 0x43, 0x65]);
    const even = Uint8Array.of(0x21, 0x43);
    expect(Array.from(contiguousNibbles(even, 2, 2))).toEqual([0x21, 0x43]);
  });

  it('rejects unknown operators', () => {
    expect(() => linearSettings({ nbitsOperator: 'gemm' })).toThrow(QaqError);
    expect(linearSettings({})).toEqual({ accuracyLevel: 0, nbitsOperator: 'matmul-nbits' });
  });

  it.runIf(modelAvailable('smollm2'))(
    'computes the MatMulNBits logits on onnxruntime-node and on the wasm EP with DequantizeLinear folded',
    async () => {
      const bytes = readModelBytes('smollm2');
      const file = readGguf(bytes);
      const reference = buildDecoderModel(file, bytes, { lastLogitsOnly: true });
      const built = buildDecoderModel(file, bytes, { lastLogitsOnly: true, nbitsOperator: 'dequantize-linear' });
      const operators = readModelOperators(built.model).nodes.map((node) => node.opType);
      expect(operators).not.toContain('MatMulNBits');
      expect(operators.filter((type) => type === 'DequantizeLinear').length).toBeGreaterThan(30 * 4);
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
      const runNode = async (model: Uint8Array): Promise<Float32Array> => {
        const session = await ortNode.InferenceSession.create(model, { intraOpNumThreads: 1 });
        const feeds = feedsFor((type, data, dims) => new ortNode.Tensor(type, data, dims)) as Record<string, ortNode.Tensor>;
        const logits = (await session.run(feeds))['logits']!.data as Float32Array;
        await session.release();
        return logits;
      };
      ortWeb.env.wasm.numThreads = 1;
      const web = await ortWeb.InferenceSession.create(built.model, {
        executionProviders: ['wasm'],
        extra: { session: { disable_quant_qdq: '1' } },
      });
      const feeds = feedsFor((type, data, dims) => new ortWeb.Tensor(type, data, dims)) as Record<string, ortWeb.Tensor>;
      const webLogits = (await web.run(feeds))['logits']!.data as Float32Array;
      await web.release();
      const expected = await runNode(reference.model);
      for (const actual of [await runNode(built.model), webLogits]) {
        let largest = 0;
        let difference = 0;
        expected.forEach((value, index) => {
          largest = Math.max(largest, Math.abs(value));
          difference = Math.max(difference, Math.abs(value - actual[index]!));
        });
        // Same weights, different fp32 summation order (MLAS sgemm vs the n-bit kernel): README's 5e-5 bound.
        expect(difference / largest).toBeLessThan(5e-5);
      }
    },
    180_000,
  );
});
