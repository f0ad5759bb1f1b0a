import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { DecoderConfig, LayerKind } from './decoder-config.js';
import { gqaAttention, gqaCacheLayout, gqaLargestCode, type GqaCacheBits } from './gqa-attention.js';
import { GraphBuilder } from './onnx/graph-builder.js';

const queryHeads = 4;
const kvHeads = 2;
const headDim = 8;
const window = 3;
const capacity = 12;

const config: DecoderConfig = {
  architecture: 'gemma3',
  layerCount: 1,
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
  layerKinds: ['sliding'],
  queryPreAttentionScalar: 5,
  attentionScale: 5 ** -0.5,
  contextLength: 64,
  tiedEmbeddings: true,
  embeddingScale: 1,
  queryKeyNorm: true,
  sandwichNorms: true,
  activation: 'gelu-tanh',
};

async function gqaSession(kind: LayerKind, bits: GqaCacheBits): Promise<ort.InferenceSession> {
  const g = new GraphBuilder('gqa');
  const layout = gqaCacheLayout(bits, headDim);
  const cacheShape = [1, kvHeads, 'capacity', layout.lastAxis];
  const quantized = bits !== 0;
  const output = gqaAttention({
    builder: g,
    config,
    kind,
    bits,
    query: g.input('q', 'float32', [1, 'S', queryHeads, headDim]),
    key: g.input('k', 'float32', [1, 'S', kvHeads, headDim]),
    value: g.input('v', 'float32', [1, 'S', kvHeads, headDim]),
    pastKey: g.input('past_key', layout.elementType, cacheShape),
    pastValue: g.input('past_value', layout.elementType, cacheShape),
    seqlensK: g.input('seqlens_k', 'int32', [1]),
    totalSequenceLength: g.input('total_sequence_length', 'int32', []),
    ...(quantized
      ? { keyScale: g.input('k_scale', 'float32', [1, kvHeads, 1, headDim]), valueScale: g.input('v_scale', 'float32', [1, kvHeads, 1, headDim]) }
      : {}),
    presentKey: 'present_key',
    presentValue: 'present_value',
  });
  g.alias(output, 'out');
  g.output('out', 'float32', [1, 'S', queryHeads * headDim]);
  g.output('present_key', layout.elementType, cacheShape);
  g.output('present_value', layout.elementType, cacheShape);
  return ort.InferenceSession.create(
    g.toModel({ opsetImports: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }] }),
  );
}

/** What the cache holds after quantization, as floats: round(x / scale) clamped to the symmetric range, times scale. */
function dequantized(values: Float32Array, scales: Float32Array, bits: GqaCacheBits): Float64Array {
  if (bits === 0) return Float64Array.from(values);
  const low = bits === 8 ? -128 : -8;
  const high = bits === 8 ? 127 : 7;
  return Float64Array.from(values, (value, index) => {
    const scale = scales[index % (kvHeads * headDim)]!; // token-major [T, kvHeads, D]; scales [kvHeads, D]
    return Math.min(high, Math.max(low, Math.round(value / scale))) * scale;
  });
}

/** Float64 causal (and sliding) attention; keys/values token-major [T, kvHeads, D], the S queries are the last S tokens. */
function reference(q: Float32Array, keys: Float64Array, values: Float64Array, count: number, total: number, kind: LayerKind): Float64Array {
  const out = new Float64Array(count * queryHeads * headDim);
  for (let token = 0; token < count; token++) {
    const position = total - count + token;
    for (let head = 0; head < queryHeads; head++) {
      const kvHead = Math.floor(head / (queryHeads / kvHeads));
      const scores: number[] = [];
      for (let key = 0; key < total; key++) {
        const visible = key <= position && (kind === 'full' || key > position - window);
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[(token * queryHeads + head) * headDim + d]! * keys[(key * kvHeads + kvHead) * headDim + d]!;
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

describe('gqaAttention (com.microsoft GroupQueryAttention, shared-buffer cache)', () => {
  for (const bits of [0, 8, 4] as const) {
    for (const kind of ['full', 'sliding'] as const) {
      it(`bits ${bits}, ${kind}: chunks of 5, 1, 3, 1 match a float64 reference on the quantized values, written in place`, async () => {
        const session = await gqaSession(kind, bits);
        const layout = gqaCacheLayout(bits, headDim);
        const cacheLength = kvHeads * capacity * layout.lastAxis;
        const keyCache = bits === 8 ? new Int8Array(cacheLength) : bits === 4 ? new Uint8Array(cacheLength) : new Float32Array(cacheLength);
        const valueCache = bits === 8 ? new Int8Array(cacheLength) : bits === 4 ? new Uint8Array(cacheLength) : new Float32Array(cacheLength);
        const keyTensor = new ort.Tensor(layout.elementType as 'float32', keyCache as Float32Array, [1, kvHeads, capacity, layout.lastAxis]);
        const valueTensor = new ort.Tensor(layout.elementType as 'float32', valueCache as Float32Array, [1, kvHeads, capacity, layout.lastAxis]);
        let seed = bits * 7 + (kind === 'full' ? 1 : 2);
        const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
        const make = (length: number): Float32Array => Float32Array.from({ length }, random);
        const rowSize = kvHeads * headDim;
        // Scales from the absmax bound of the random values (|x| < 1), one per (head, channel), varied per channel.
        const largest = bits === 0 ? 1 : gqaLargestCode(bits);
        const keyScales = Float32Array.from({ length: rowSize }, (_, index) => (1 + (index % 3) * 0.25) / largest);
        const valueScales = Float32Array.from({ length: rowSize }, (_, index) => (1 + (index % 2) * 0.5) / largest);
        const allKeys: number[] = [];
        const allValues: number[] = [];
        let past = 0;
        for (const count of [5, 1, 3, 1]) {
          const q = make(count * queryHeads * headDim);
          const k = make(count * rowSize);
          const v = make(count * rowSize);
          allKeys.push(...k);
          allValues.push(...v);
          const total = past + count;
          const feeds: Record<string, ort.Tensor> = {
            q: new ort.Tensor('float32', q, [1, count, queryHeads, headDim]),
            k: new ort.Tensor('float32', k, [1, count, kvHeads, headDim]),
            v: new ort.Tensor('float32', v, [1, count, kvHeads, headDim]),
            past_key: keyTensor,
            past_value: valueTensor,
            seqlens_k: new ort.Tensor('int32', Int32Array.of(total - 1), [1]),
            total_sequence_length: new ort.Tensor('int32', Int32Array.of(total), []),
          };
          if (bits !== 0) {
            feeds['k_scale'] = new ort.Tensor('float32', keyScales, [1, kvHeads, 1, headDim]);
            feeds['v_scale'] = new ort.Tensor('float32', valueScales, [1, kvHeads, 1, headDim]);
          }
          const result = await session.run(feeds, { out: null, present_key: keyTensor, present_value: valueTensor });
          const actual = result['out']!.data as Float32Array;
          const keys = dequantized(Float32Array.from(allKeys), keyScales, bits);
          const values = dequantized(Float32Array.from(allValues), valueScales, bits);
          const expected = reference(q, keys, values, count, total, kind);
          const tolerance = bits === 0 ? 1e-5 : 1e-4;
          expected.forEach((value, index) => expect(Math.abs(actual[index]! - value)).toBeLessThan(tolerance));
          past = total;
        }
        // The cache was written in place (shared buffer), BNSH, with the documented code layout.
        for (let token = 0; token < past; token++) {
          for (let head = 0; head < kvHeads; head++) {
            for (let channel = 0; channel < headDim; channel++) {
              const source = (token * kvHeads + head) * headDim + channel;
              const scale = keyScales[head * headDim + channel]!;
              const [low, high] = bits === 8 ? [-128, 127] : [-8, 7];
              const code = Math.max(low, Math.min(high, Math.round(allKeys[source]! / scale))) + 0;
              const row = (head * capacity + token) * layout.lastAxis;
              if (bits === 0) expect(keyCache[row + channel]).toBe(Math.fround(allKeys[source]!));
              else if (bits === 8) expect(keyCache[row + channel]).toBe(code);
              else {
                const byte = keyCache[row + (channel >> 1)]!;
                expect(channel % 2 === 0 ? byte & 15 : byte >> 4).toBe(code + 8);
              }
            }
          }
        }
        await session.release();
      });
    }
  }
});
