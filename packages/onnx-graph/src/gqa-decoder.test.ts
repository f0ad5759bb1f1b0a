import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readGguf } from '@qaq/gguf';
import { buildQuantizedCacheDecoder } from './gqa-decoder.js';
import { modelAvailable, readModelBytes } from './testing/model-files.test-utils.js';
import { comparePosition, readOracle } from './testing/oracle.test-utils.js';

describe.runIf(modelAvailable('smollm2'))('buildQuantizedCacheDecoder on SmolLM2-135M', () => {
  it('declares the GroupQueryAttention cache interface for 4 bits and the calibration graph', async () => {
    const bytes = readModelBytes('smollm2');
    const file = readGguf(bytes);
    const int4 = buildQuantizedCacheDecoder(file, bytes, { bits: 4 });
    const byName = new Map(int4.inputs.map((input) => [input.name, input]));
    expect(byName.get('past_key.0')).toEqual({ name: 'past_key.0', elementType: 'uint8', shape: [1, 3, 'capacity', 32] });
    expect(byName.get('k_scale.29')).toEqual({ name: 'k_scale.29', elementType: 'float32', shape: [1, 3, 1, 64] });
    expect(byName.get('seqlens_k')?.elementType).toBe('int32');
    expect(int4.outputs.map((output) => output.name)).toContain('present_value.29');
    expect(int4.outputs.find((output) => output.name === 'logits')?.shape).toEqual([1, 1, 49152]);
    const calibration = buildQuantizedCacheDecoder(file, bytes, { bits: 4, calibration: true });
    expect(calibration.bits).toBe(0);
    expect(calibration.inputs.map((input) => input.name)).toEqual(['input_ids', 'position_ids', 'seqlens_k', 'total_sequence_length']);
    expect(calibration.outputs.find((output) => output.name === 'key_absmax.3')?.shape).toEqual([3, 64]);
    expect(() => buildQuantizedCacheDecoder(file, bytes, { bits: 2 as 4 })).toThrow(expect.objectContaining({ code: 'invalid-cache-bits' }));
    // With keyBound 'rotary-pair' channels c and c + 32 share the bound; run that calibration graph on a few tokens.
    const pairs = buildQuantizedCacheDecoder(file, bytes, { bits: 4, calibration: true, keyBound: 'rotary-pair' });
    const session = await ort.InferenceSession.create(pairs.model, { executionProviders: ['cpu'], intraOpNumThreads: 2 });
    const ids = readOracle('smollm2').cases[0]!.tokenIds.slice(0, 8);
    const result = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, ids.length]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (_, index) => BigInt(index)), [1, ids.length]),
      seqlens_k: new ort.Tensor('int32', Int32Array.of(ids.length - 1), [1]),
      total_sequence_length: new ort.Tensor('int32', Int32Array.of(ids.length), []),
    });
    const keyBound = result['key_absmax.5']!.data as Float32Array;
    const valueBound = result['value_absmax.5']!.data as Float32Array;
    for (let head = 0; head < 3; head++) {
      for (let channel = 0; channel < 32; channel++) {
        expect(keyBound[head * 64 + channel]).toBe(keyBound[head * 64 + channel + 32]);
        expect(keyBound[head * 64 + channel]).toBeGreaterThan(0);
      }
    }
    expect(valueBound.every((bound) => bound > 0)).toBe(true);
    await session.release();
  }, 60_000);

  it('with an fp32 cache (bits 0) matches transformers in prefill and in decode through the shared buffer', async () => {
    const bytes = readModelBytes('smollm2');
    const decoder = buildQuantizedCacheDecoder(readGguf(bytes), bytes, { bits: 0, lastLogitsOnly: false });
    const session = await ort.InferenceSession.create(decoder.model, { executionProviders: ['cpu'], intraOpNumThreads: 2 });
    const { layerCount, keyValueHeadCount, headDim, vocabSize } = decoder.config;
    const capacity = 32;
    const caches = Array.from({ length: layerCount }, () => {
      const shape = [1, keyValueHeadCount, capacity, headDim];
      return {
        key: new ort.Tensor('float32', new Float32Array(keyValueHeadCount * capacity * headDim), shape),
        value: new ort.Tensor('float32', new Float32Array(keyValueHeadCount * capacity * headDim), shape),
      };
    });
    const oracle = readOracle('smollm2');
    const testCase = oracle.cases[0]!;
    let past = 0;
    const run = async (ids: readonly number[]): Promise<Float32Array> => {
      const count = ids.length;
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, count]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: count }, (_, index) => BigInt(past + index)), [1, count]),
        seqlens_k: new ort.Tensor('int32', Int32Array.of(past + count - 1), [1]),
        total_sequence_length: new ort.Tensor('int32', Int32Array.of(past + count), []),
      };
      const fetches: Record<string, ort.Tensor | null> = { logits: null };
      caches.forEach((cache, layer) => {
        feeds[`past_key.${layer}`] = cache.key;
        feeds[`past_value.${layer}`] = cache.value;
        fetches[`present_key.${layer}`] = cache.key;
        fetches[`present_value.${layer}`] = cache.value;
      });
      const result = await session.run(feeds, fetches);
      past += count;
      return result['logits']!.data as Float32Array;
    };
    const split = testCase.tokenIds.length - 3;
    const prefill = await run(testCase.tokenIds.slice(0, split));
    const rows = testCase.positions
      .slice(0, split)
      .map((reference, position) => comparePosition(prefill.subarray(position * vocabSize, (position + 1) * vocabSize), reference, oracle.subsetIds));
    for (let position = split; position < testCase.tokenIds.length; position++) {
      rows.push(comparePosition(await run([testCase.tokenIds[position]!]), testCase.positions[position]!, oracle.subsetIds));
    }
    for (const row of rows) {
      expect(row.top1).toBe(row.expectedTop1);
      expect(row.relativeError).toBeLessThan(5e-5);
      expect(row.logSoftmaxError).toBeLessThan(1e-3);
    }
    await session.release();
  }, 60_000);
});
