import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { defaultAttention } from './attention.js';
import type { DecoderConfig, LayerKind } from './decoder-config.js';
import { GraphBuilder } from './onnx/graph-builder.js';

const queryHeads = 4;
const kvHeads = 2;
const headDim = 8;
const window = 3;

const config: DecoderConfig = {
  architecture: 'gemma3',
  layerCount: 2,
  hiddenSize: queryHeads * headDim,
  feedForwardSize: 64,
  queryHeadCount: queryHeads,
  keyValueHeadCount: kvHeads,
  headDim,
  vocabSize: 10,
  ropeTheta: 1e6,
  ropeLocalTheta: 1e4,
  ropeScaleFactor: 1,
  rmsEpsilon: 1e-6,
  slidingWindow: window,
  slidingWindowPattern: 2,
  layerKinds: ['sliding', 'full'],
  queryPreAttentionScalar: headDim,
  attentionScale: headDim ** -0.5,
  contextLength: 64,
  tiedEmbeddings: true,
  embeddingScale: 1,
  queryKeyNorm: true,
  sandwichNorms: true,
  activation: 'gelu-tanh',
};

async function attentionSession(kind: LayerKind): Promise<ort.InferenceSession> {
  const g = new GraphBuilder('attention');
  const output = defaultAttention({
    builder: g,
    config,
    layer: 0,
    kind,
    query: g.input('q', 'float32', [1, 'S', queryHeads, headDim]),
    key: g.input('k', 'float32', [1, 'S', kvHeads, headDim]),
    value: g.input('v', 'float32', [1, 'S', kvHeads, headDim]),
    pastKey: g.input('past_k', 'float32', [1, 'P', kvHeads, headDim]),
    pastValue: g.input('past_v', 'float32', [1, 'P', kvHeads, headDim]),
    positionIds: g.input('position_ids', 'int64', [1, 'S']),
  });
  g.alias(output, 'out');
  g.output('out', 'float32', [1, 'S', queryHeads * headDim]);
  return ort.InferenceSession.create(g.toModel({ opsetImports: [{ domain: '', version: 21 }] }));
}

/** Float64 reference: causal (and sliding) softmax attention; key j of the concatenated cache is at firstPosition − P + j. */
function reference(
  q: Float32Array, keys: Float32Array, values: Float32Array, count: number, total: number, firstPosition: number, kind: LayerKind,
): Float64Array {
  const out = new Float64Array(count * queryHeads * headDim);
  const past = total - count;
  for (let token = 0; token < count; token++) {
    const position = firstPosition + token;
    for (let head = 0; head < queryHeads; head++) {
      const kvHead = Math.floor(head / (queryHeads / kvHeads));
      const scores: number[] = [];
      for (let key = 0; key < total; key++) {
        const keyPosition = firstPosition - past + key;
        const visible = keyPosition <= position && (kind === 'full' || keyPosition > position - window);
        let dot = 0;
        for (let d = 0; d < headDim; d++) {
          dot += q[(token * queryHeads + head) * headDim + d]! * keys[(key * kvHeads + kvHead) * headDim + d]!;
        }
        scores.push(visible ? dot * config.attentionScale : -Infinity);
      }
      const max = Math.max(...scores);
      const weights = scores.map((score) => Math.exp(score - max));
      const sum = weights.reduce((a, b) => a + b, 0);
      for (let d = 0; d < headDim; d++) {
        let value = 0;
        for (let key = 0; key < total; key++) value += (weights[key]! / sum) * values[(key * kvHeads + kvHead) * headDim + d]!;
        out[(token * queryHeads + head) * headDim + d] = value;
      }
    }
  }
  return out;
}

describe('defaultAttention', () => {
  for (const kind of ['full', 'sliding'] as const) {
    for (const [past, count] of [[0, 5], [4, 1], [2, 3], [6, 2]] as const) {
      it(`${kind}: P = ${past}, S = ${count}, GQA and the causal/sliding mask match a float64 reference`, async () => {
        const session = await attentionSession(kind);
        let seed = past * 31 + count;
        const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
        const make = (length: number): Float32Array => Float32Array.from({ length }, random);
        const rowSize = kvHeads * headDim;
        const q = make(count * queryHeads * headDim);
        const keys = make((past + count) * rowSize);
        const values = make((past + count) * rowSize);
        // The cache may be a suffix: positions start after 7 earlier tokens the caller dropped.
        const firstPosition = 7 + past;
        const result = await session.run({
          q: new ort.Tensor('float32', q, [1, count, queryHeads, headDim]),
          k: new ort.Tensor('float32', keys.slice(past * rowSize), [1, count, kvHeads, headDim]),
          v: new ort.Tensor('float32', values.slice(past * rowSize), [1, count, kvHeads, headDim]),
          past_k: new ort.Tensor('float32', keys.slice(0, past * rowSize), [1, past, kvHeads, headDim]),
          past_v: new ort.Tensor('float32', values.slice(0, past * rowSize), [1, past, kvHeads, headDim]),
          position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: count }, (_, i) => BigInt(firstPosition + i)), [1, count]),
        });
        const actual = result['out']!.data as Float32Array;
        const expected = reference(q, keys, values, count, past + count, firstPosition, kind);
        expect(actual.length).toBe(expected.length);
        expected.forEach((value, index) => expect(Math.abs(actual[index]! - value)).toBeLessThan(1e-5));
        await session.release();
      });
    }
  }
});
