import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web/wasm';
import { isQaqError } from '@qaq/errors';
import {
  buildCompactAttentionGraph,
  compactAttentionInput,
  compactAttentionOutput,
  POOL_OFFSET_TABLE_LENGTH,
  type CompactAttentionGraphOptions,
} from './compact-attention-graph.js';
import { checkGraphOperators, listGraphOperators } from './check-graph-operators.js';
import { GraphBuilder } from './onnx/graph-builder.js';
import { attribute } from './onnx/onnx-types.js';

const base: CompactAttentionGraphOptions = {
  queryHeads: 2,
  kvHeads: 1,
  headDim: 16,
  groupLayout: 'token-layer-head',
  outlierCount: 0,
  outlierPositionBytes: 1,
  scoreScale: 0.25,
  slidingWindow: null,
  keys: { poolBits: [4], slotIndexBytes: 2 },
  values: { poolBits: [4], slotIndexBytes: 2 },
};

/** Deterministic uniform [0, 1). */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** LSB-first bit packing of B-bit codes (the layout @qaq/quantization writes). */
function pack(codes: readonly number[], bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((codes.length * bits) / 8));
  codes.forEach((code, index) => {
    for (let bit = 0; bit < bits; bit++) {
      const stream = index * bits + bit;
      if ((code >> bit) & 1) out[stream >> 3]! |= 1 << (stream & 7);
    }
  });
  return out;
}

/** Float32 → IEEE half bits for the small exact values used here (multiples of 2^-8 below 8). */
function half(value: number): number {
  if (value === 0) return 0;
  const sign = value < 0 ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  const exponent = Math.floor(Math.log2(magnitude));
  const mantissa = Math.round((magnitude / 2 ** exponent - 1) * 1024);
  return sign | ((exponent + 15) << 10) | mantissa;
}

/** IEEE half bits → float (exact). */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

describe('buildCompactAttentionGraph', () => {
  const shapes: CompactAttentionGraphOptions[] = [
    base,
    { ...base, keys: { poolBits: [1, 2, 3, 4, 5, 6, 7, 8, 16], slotIndexBytes: 4 }, values: { poolBits: [3, 16], slotIndexBytes: 2 }, outlierCount: 4 },
    { ...base, queryHeads: 6, kvHeads: 3, headDim: 128, groupLayout: 'token-layer', outlierCount: 8, outlierPositionBytes: 2, slidingWindow: 512 },
  ];

  it('uses only operators with CPU, CUDA and WebGPU kernels (no silent CPU fallback)', () => {
    for (const options of shapes) {
      const { model } = buildCompactAttentionGraph(options);
      for (const provider of ['cpu', 'cuda', 'webgpu'] as const) expect(checkGraphOperators(model, provider)).toEqual([]);
      const ops = new Set(listGraphOperators(model).map((use) => use.opType));
      for (const forbidden of ['BitShift', 'BitwiseAnd', 'ScatterElements', 'And', 'Mod', 'Shape']) expect(ops.has(forbidden)).toBe(false);
    }
  });

  it("halfPrecisionInputs 'float32': no float16 tensor anywhere (WebGPU without shader-f16), audit still clean", () => {
    for (const options of shapes) {
      const widened = buildCompactAttentionGraph({ ...options, halfPrecisionInputs: 'float32' });
      const native = buildCompactAttentionGraph(options);
      expect(widened.inputs.filter((input) => input.elementType === 'float16')).toEqual([]);
      // The same inputs by name; only the fp16 ones changed type.
      expect(widened.inputs.map((input) => input.name)).toEqual(native.inputs.map((input) => input.name));
      const halfInputs = native.inputs.filter((input) => input.elementType === 'float16').map((input) => input.name);
      expect(halfInputs.length).toBeGreaterThan(0);
      for (const name of halfInputs) expect(widened.inputs.find((input) => input.name === name)?.elementType).toBe('float32');
      const uses = listGraphOperators(widened.model);
      // float16 is ONNX type 10: no node reads it or casts to it.
      expect(uses.filter((use) => use.inputTypes.includes(10) || use.outputType === 10)).toEqual([]);
      expect(uses.some((use) => use.opType === 'Cast' && use.inputTypes[0] === 10)).toBe(false);
      for (const provider of ['cpu', 'cuda', 'webgpu'] as const) expect(checkGraphOperators(widened.model, provider)).toEqual([]);
      // Each fp16 input lost its Cast (the fp16 parameters/outlier values of a kind share one Cast after a Concat).
      expect(widened.nodeCount).toBeLessThan(native.nodeCount);
    }
  });

  it('reads uint8 only through per-tensor DequantizeLinear (no block_size: onnxruntime#32730 cannot apply)', () => {
    for (const options of shapes) {
      const uses = listGraphOperators(buildCompactAttentionGraph({ ...options, halfPrecisionInputs: 'float32' }).model).filter((use) => use.opType === 'DequantizeLinear');
      expect(uses.length).toBeGreaterThan(0);
      for (const use of uses) {
        expect(use.inputTypes[0]).toBe(2);
        expect(use.blockSize).toBeNull();
      }
    }
  });

  it('the audit flags what would fall back: BitShift, uint8 Cast on WebGPU, Transpose-21 on WebGPU', () => {
    const g = new GraphBuilder('fallbacks');
    const bytes = g.input('bytes', 'uint8', [4]);
    const shifted = g.op('BitShift', [bytes, g.initializer('shift', 'uint8', [1], Uint8Array.of(4))], { direction: attribute.string('RIGHT') });
    const floats = g.op('Cast', [shifted], { to: attribute.int(1) });
    g.rename(g.op('Transpose', [g.op('Unsqueeze', [floats, g.int64([0])])], { perm: attribute.ints([1, 0]) }), 'y');
    g.output('y', 'float32', [4, 1]);
    const model = g.toModel({ opsetImports: [{ domain: '', version: 21 }] });
    const webgpu = checkGraphOperators(model, 'webgpu').map((problem) => `${problem.opType}: ${problem.reason}`);
    expect(webgpu).toEqual([
      'BitShift: BitShift is not in the webgpu kernel table',
      'Cast: Cast on element type 2 has no webgpu kernel',
      'Transpose: Transpose-21 has no webgpu kernel',
    ]);
    expect(checkGraphOperators(model, 'cuda').map((problem) => problem.opType)).toEqual(['BitShift']);
  });

  it('the audit refuses blockwise DequantizeLinear on WebGPU (wrong values for 1-D inputs in onnxruntime 1.30, #32730)', () => {
    const g = new GraphBuilder('blockwise');
    const bytes = g.input('bytes', 'uint8', [8]);
    g.rename(g.op('DequantizeLinear', [bytes, g.float32([0.5, 2], [2])], { axis: attribute.int(0), block_size: attribute.int(4) }), 'y');
    g.output('y', 'float32', [8]);
    const model = g.toModel({ opsetImports: [{ domain: '', version: 21 }] });
    expect(checkGraphOperators(model, 'webgpu').map((problem) => problem.reason)).toEqual([
      'DequantizeLinear with block_size: onnxruntime 1.30 WebGPU dequantizes 1-D blockwise inputs per axis (wrong values, onnxruntime#32730)',
    ]);
    expect(checkGraphOperators(model, 'cpu')).toEqual([]);
  });

  it('refuses bad options with QaqError(invalid-graph-options)', () => {
    for (const options of [
      { ...base, queryHeads: 3, kvHeads: 2 },
      { ...base, keys: { poolBits: [9], slotIndexBytes: 2 as const } },
      { ...base, values: { poolBits: [], slotIndexBytes: 2 as const } },
      { ...base, slidingWindow: 0 },
      { ...base, halfPrecisionInputs: 'bfloat16' as never },
    ]) {
      let caught: unknown;
      try {
        buildCompactAttentionGraph(options);
      } catch (error) {
        caught = error;
      }
      expect(isQaqError(caught) && caught.code === 'invalid-graph-options').toBe(true);
    }
  });

  // Every width unpacked from hand-packed bytes: keys and values in the pool of width B (slots shuffled) plus one
  // token in the fp16 pool, against float64 attention over x̂ = m + (c + ½)·s. Odd widths use 4-byte slot indices.
  for (const bits of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`unpacks ${bits}-bit codes exactly (onnxruntime-node CPU EP; onnxruntime-web wasm EP agrees)`, async () => {
      const uniform = generator(bits * 31);
      const { headDim, queryHeads, scoreScale } = base;
      const packedTokens = 6;
      const capacity = 8;
      const slotIndexBytes: 2 | 4 = bits % 2 === 0 ? 2 : 4;
      const options = { ...base, keys: { poolBits: [bits, 16], slotIndexBytes }, values: { poolBits: [bits, 16], slotIndexBytes } };
      const { model } = buildCompactAttentionGraph(options);
      const session = await ort.InferenceSession.create(model);
      const codeBytes = Math.ceil((headDim * bits) / 8);
      type Feed = { type: 'uint8' | 'float16' | 'float32'; data: Uint8Array | Uint16Array | Float32Array; dims: number[] };
      const feeds: Record<string, Feed> = {};
      const tensor = (type: Feed['type'], data: Feed['data'], dims: number[]): Feed => ({ type, data, dims });
      const dense: Record<'keys' | 'values', number[][]> = { keys: [], values: [] };
      // Token t of the packed pool lives in slot (t·5 + 3) mod 8; the last token is in fp16 slot 1.
      const slotOf = (token: number): number => (token * 5 + 3) % capacity;
      for (const kind of ['keys', 'values'] as const) {
        const codes = new Uint8Array(capacity * codeBytes).map(() => Math.floor(uniform() * 256));
        const parameters = new Uint16Array(capacity * 2);
        const fp16 = new Uint16Array(2 * headDim);
        for (let token = 0; token <= packedTokens; token++) {
          if (token === packedTokens) {
            const values = Array.from({ length: headDim }, () => Math.round((uniform() * 4 - 2) * 256) / 256);
            values.forEach((value, index) => (fp16[headDim + index] = half(value)));
            dense[kind].push(values);
            continue;
          }
          const slot = slotOf(token);
          const tokenCodes = Array.from({ length: headDim }, () => Math.floor(uniform() * 2 ** bits));
          codes.set(pack(tokenCodes, bits), slot * codeBytes);
          const minimum = Math.round((uniform() - 0.5) * 256) / 256;
          const step = Math.round((0.05 + uniform() * 0.5) * 256) / 256;
          parameters[2 * slot] = half(minimum);
          parameters[2 * slot + 1] = half(step);
          dense[kind].push(tokenCodes.map((code) => minimum + (code + 0.5) * step));
        }
        const tags = Uint8Array.from({ length: packedTokens + 1 }, (_, token) => (token === packedTokens ? 16 : bits));
        const slotOfToken = (_: unknown, token: number): number => (token === packedTokens ? 1 : slotOf(token));
        const slots = slotIndexBytes === 2 ? Uint16Array.from({ length: packedTokens + 1 }, slotOfToken) : Uint32Array.from({ length: packedTokens + 1 }, slotOfToken);
        const offsets = new Float32Array(POOL_OFFSET_TABLE_LENGTH);
        offsets[16] = capacity;
        feeds[compactAttentionInput.pool(kind, 'codes', bits)] = tensor('uint8', codes, [capacity, codeBytes]);
        feeds[compactAttentionInput.pool(kind, 'parameters', bits)] = tensor('float16', parameters, [capacity, 2]);
        feeds[compactAttentionInput.pool(kind, 'codes', 16)] = tensor('float16', fp16, [2, headDim]);
        feeds[compactAttentionInput.pool(kind, 'parameters', 16)] = tensor('float16', new Uint16Array(4), [2, 2]);
        feeds[compactAttentionInput.bitWidths(kind)] = tensor('uint8', tags, [tags.length]);
        feeds[compactAttentionInput.slotBytes(kind)] = tensor('uint8', new Uint8Array(slots.buffer), [slots.length, slotIndexBytes]);
        feeds[compactAttentionInput.poolOffsets(kind)] = tensor('float32', offsets, [POOL_OFFSET_TABLE_LENGTH]);
      }
      const query = Float32Array.from({ length: queryHeads * headDim }, () => uniform() * 2 - 1);
      feeds[compactAttentionInput.query] = tensor('float32', query, [1, queryHeads, headDim]);
      const result = await session.run(Object.fromEntries(Object.entries(feeds).map(([name, feed]) => [name, new ort.Tensor(feed.type, feed.data, feed.dims)])));
      // The float32-input variant (fp16 arrays widened by the caller) gives the very same outputs.
      const widenedSession = await ort.InferenceSession.create(buildCompactAttentionGraph({ ...options, halfPrecisionInputs: 'float32' }).model);
      const widenedFeeds = Object.fromEntries(
        Object.entries(feeds).map(([name, feed]) => [
          name,
          feed.type === 'float16' ? new ort.Tensor('float32', Float32Array.from(feed.data as Uint16Array, halfToFloat), feed.dims) : new ort.Tensor(feed.type, feed.data, feed.dims),
        ]),
      );
      const widenedResult = await widenedSession.run(widenedFeeds);
      expect(widenedResult[compactAttentionOutput.attention]!.data).toEqual(result[compactAttentionOutput.attention]!.data);
      expect(widenedResult[compactAttentionOutput.maxProbabilities]!.data).toEqual(result[compactAttentionOutput.maxProbabilities]!.data);
      await widenedSession.release();
      ortWeb.env.wasm.numThreads = 1;
      const web = await ortWeb.InferenceSession.create(model, { executionProviders: ['wasm'] });
      const webResult = await web.run(Object.fromEntries(Object.entries(feeds).map(([name, feed]) => [name, new ortWeb.Tensor(feed.type, feed.data, feed.dims)])));
      const webOutput = webResult[compactAttentionOutput.attention]!.data as Float32Array;
      (result[compactAttentionOutput.attention]!.data as Float32Array).forEach((value, index) => expect(Math.abs(webOutput[index]! - value)).toBeLessThan(1e-6 * Math.max(1, Math.abs(value))));
      await web.release();
      const output = result[compactAttentionOutput.attention]!.data as Float32Array;
      const maxima = result[compactAttentionOutput.maxProbabilities]!.data as Float32Array;
      const tokens = packedTokens + 1;
      const expectedMaxima = new Array<number>(tokens).fill(0);
      for (let head = 0; head < queryHeads; head++) {
        const scores = dense.keys.map((key) => scoreScale * key.reduce((sum, value, index) => sum + value * query[head * headDim + index]!, 0));
        const largest = Math.max(...scores);
        const weights = scores.map((score) => Math.exp(score - largest));
        const total = weights.reduce((sum, weight) => sum + weight, 0);
        weights.forEach((weight, token) => (expectedMaxima[token] = Math.max(expectedMaxima[token]!, weight / total)));
        for (let element = 0; element < headDim; element++) {
          const expected = weights.reduce((sum, weight, token) => sum + (weight / total) * dense.values[token]![element]!, 0);
          expect(Math.abs(output[head * headDim + element]! - expected)).toBeLessThan(2e-5 * Math.max(1, Math.abs(expected)));
        }
      }
      expectedMaxima.forEach((expected, token) => expect(Math.abs(maxima[token]! - expected)).toBeLessThan(2e-6));
      await session.release();
    });
  }
});
