import { HadamardRotation } from '@qaq/quantization';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelScaling, channelScalingCalibrationTokens } from './channel-scaling.js';
import { ExactCache } from './exact-cache.test-utils.js';

const shape = { layers: 2, kvHeads: 2, queryHeads: 4, headDim: 8 };
const tokenLength = shape.kvHeads * shape.headDim;

function random(length: number, seed: number, channelScale: (channel: number) => number = () => 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length }, (_, index) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return ((state >>> 8) / 2 ** 24 - 0.5) * channelScale(index % shape.headDim);
  });
}

/**
 * Stores `chunks` of tokens of layer 1 through the scaling into an exact cache (keys rotated first when `rotation`
 * is given, as CompactCacheAttention does), and returns the cache with every call's query as stored.
 */
function storeChunks(scaling: ChannelScaling, chunks: readonly number[], rotation: HadamardRotation | null, seed: number) {
  const cache = new ExactCache(tokenLength);
  const total = chunks.reduce((sum, chunk) => sum + chunk, 0);
  const queries = random(total * shape.queryHeads * shape.headDim, seed, (channel) => (channel < 2 || (channel >= 4 && channel < 6) ? 4 : 0.25));
  const keys = random(total * tokenLength, seed + 1, (channel) => 1 + channel);
  const values = random(total * tokenLength, seed + 2);
  const storedQueries = new Float32Array(queries.length);
  let start = 0;
  for (const chunk of chunks) {
    const query = queries.subarray(start * shape.queryHeads * shape.headDim, (start + chunk) * shape.queryHeads * shape.headDim);
    const range = [start * tokenLength, (start + chunk) * tokenLength] as const;
    const scaled = scaling.scale(1, query, keys.subarray(...range), values.subarray(...range), chunk, cache, { keys: rotation, values: rotation }, { keyBits: 8, valueBits: 6 }, 2);
    const key = Float32Array.from(scaled.key);
    const value = Float32Array.from(scaled.value);
    rotation?.forward(key, key, chunk * shape.kvHeads);
    rotation?.forward(value, value, chunk * shape.kvHeads);
    cache.append(1, key, value, chunk, 8, 6);
    storedQueries.set(scaled.query, start * shape.queryHeads * shape.headDim);
    start += chunk;
  }
  return { cache, queries, keys, values, storedQueries, total };
}

describe('ChannelScaling', () => {
  it('keeps every score q·k once calibrated, whatever the chunks (token-by-token starts are stored again)', () => {
    const chunk = fc.integer({ min: 1, max: 24 });
    fc.assert(
      fc.property(fc.array(chunk, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.integer({ min: 1, max: 1000 }), (chunks, rotate, seed) => {
        const scaling = new ChannelScaling({ keys: true, values: false }, shape.layers, shape.kvHeads, shape.queryHeads, shape.headDim);
        const rotation = rotate ? new HadamardRotation(shape.headDim) : null;
        const { cache, queries, keys, values, storedQueries, total } = storeChunks(scaling, chunks, rotation, seed);
        expect(scaling.isScaling(1)).toBe(total >= channelScalingCalibrationTokens);
        expect(scaling.isScaling(0)).toBe(false);
        const storedKeys = Float32Array.from(cache.keys[1] as number[]);
        rotation?.inverse(storedKeys, storedKeys, total * shape.kvHeads);
        // Keys only: the values are stored as they came (rotated); every key of a calibrated layer is s ⊙ k.
        const storedValues = Float32Array.from(cache.values[1] as number[]);
        rotation?.inverse(storedValues, storedValues, total * shape.kvHeads);
        for (let index = 0; index < values.length; index++) expect(storedValues[index]).toBeCloseTo(values[index] as number, 5);
        const group = shape.queryHeads / shape.kvHeads;
        // The last call's queries were scaled with the layer's final scales (earlier ones maybe not yet).
        const lastChunk = chunks[chunks.length - 1] as number;
        for (let row = total - lastChunk; row < total; row++) {
          for (let head = 0; head < shape.queryHeads; head++) {
            const kvHead = Math.floor(head / group);
            for (let token = 0; token < total; token++) {
              let exact = 0;
              let stored = 0;
              for (let channel = 0; channel < shape.headDim; channel++) {
                const q = (row * shape.queryHeads + head) * shape.headDim + channel;
                const k = (token * shape.kvHeads + kvHead) * shape.headDim + channel;
                exact += (queries[q] as number) * (keys[k] as number);
                stored += (storedQueries[q] as number) * (storedKeys[k] as number);
              }
              expect(Math.abs(stored - exact)).toBeLessThan(1e-5 * (1 + Math.abs(exact)));
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('scales up the channel pairs queries use and down the rest: pair-tied, geometric mean 1', () => {
    const scaling = new ChannelScaling({ keys: true, values: false }, shape.layers, shape.kvHeads, shape.queryHeads, shape.headDim);
    storeChunks(scaling, [40], null, 7);
    for (let kvHead = 0; kvHead < shape.kvHeads; kvHead++) {
      const scales = scaling.scalesOf('keys', 1, kvHead);
      const half = shape.headDim / 2;
      // RoPE pairs (j, j + D/2) share a scale.
      for (let index = 0; index < half; index++) expect(scales[index]).toBe(scales[index + half]);
      expect(Math.exp(scales.reduce((sum, scale) => sum + Math.log(scale), 0) / shape.headDim)).toBeCloseTo(1, 5);
      // Queries are 16× larger in channels 0, 1, 4, 5 (pairs 0 and 1); keys grow with the channel index.
      expect(Math.min(scales[0] as number, scales[1] as number)).toBeGreaterThan(1);
      expect(Math.max(scales[2] as number, scales[3] as number)).toBeLessThan(1);
      for (const scale of scales) expect(scale).toBeGreaterThan(0);
    }
  });

  it('stores the tokens it held before calibrating again at the append widths, the sinks at fp16, once', () => {
    const scaling = new ChannelScaling({ keys: true, values: false }, shape.layers, shape.kvHeads, shape.queryHeads, shape.headDim);
    const chunks = [5, channelScalingCalibrationTokens - 5, 3];
    const { cache } = storeChunks(scaling, chunks, null, 3);
    // Chunk appends (5, 27, 3) plus one re-store of the first 5 tokens: 2 sinks at fp16, 3 at 8 / 6 bits.
    expect(cache.appendWidths).toEqual([
      [5, 8, 6],
      [2, 16, 16],
      [3, 8, 6],
      [27, 8, 6],
      [3, 8, 6],
    ]);
  });

  it('calibrates again once its layer is emptied, and counts its bytes', () => {
    const scaling = new ChannelScaling({ keys: true, values: false }, shape.layers, shape.kvHeads, shape.queryHeads, shape.headDim);
    const { cache } = storeChunks(scaling, [channelScalingCalibrationTokens], null, 11);
    const first = Float32Array.from(scaling.scalesOf('keys', 1, 0));
    cache.evictOldest(1, cache.tokenCount(1));
    const query = random(channelScalingCalibrationTokens * shape.queryHeads * shape.headDim, 99, (channel) => (channel % 4 === 3 ? 8 : 1));
    const key = random(channelScalingCalibrationTokens * tokenLength, 98);
    const none = { keys: null, values: null };
    const widths = { keyBits: 8, valueBits: 8 };
    scaling.scale(1, query, key, key, 4, cache, none, widths, 0);
    expect(scaling.isScaling(1)).toBe(false);
    expect(Array.from(scaling.scalesOf('keys', 1, 0))).toEqual(new Array(shape.headDim).fill(1));
    cache.append(1, key.subarray(0, 4 * tokenLength), key.subarray(0, 4 * tokenLength), 4, 8, 8);
    const rest = key.subarray(4 * tokenLength);
    scaling.scale(1, query.subarray(4 * shape.queryHeads * shape.headDim), rest, rest, channelScalingCalibrationTokens - 4, cache, none, widths, 0);
    expect(scaling.isScaling(1)).toBe(true);
    expect(Array.from(scaling.scalesOf('keys', 1, 0))).not.toEqual(Array.from(first));
    expect(scaling.bytes).toBe(2 * shape.layers * shape.kvHeads * shape.headDim * 4);
    // Query and key sums (keys only), fp64, and two row counts per layer.
    expect(scaling.calibrationBytes).toBe(2 * shape.layers * shape.kvHeads * shape.headDim * 8 + 2 * shape.layers * 8);
  });

  it('scales values by E[v²]^(−¼) with mean(1 / s²) = 1, and divides the attention output back exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 1000 }), (chunks, seed) => {
        const scaling = new ChannelScaling({ keys: false, values: true }, shape.layers, shape.kvHeads, shape.queryHeads, shape.headDim);
        const { cache, queries, storedQueries, values, total } = storeChunks(scaling, chunks, null, seed);
        // Keys untouched: the queries pass as they are.
        expect(storedQueries).toEqual(queries);
        if (total < channelScalingCalibrationTokens) {
          expect(Float32Array.from(cache.values[1] as number[])).toEqual(values);
          return;
        }
        for (let kvHead = 0; kvHead < shape.kvHeads; kvHead++) {
          const scales = scaling.scalesOf('values', 1, kvHead);
          expect(scales.reduce((sum, scale) => sum + 1 / scale ** 2, 0) / shape.headDim).toBeCloseTo(1, 5);
        }
        // A probability-weighted sum of stored values, divided back, is the sum of the values themselves.
        const group = shape.queryHeads / shape.kvHeads;
        const stored = Float32Array.from(cache.values[1] as number[]);
        const output = new Float32Array(shape.queryHeads * shape.headDim);
        const expected = new Float64Array(output.length);
        for (let head = 0; head < shape.queryHeads; head++) {
          const kvHead = Math.floor(head / group);
          for (let token = 0; token < total; token++) {
            const weight = (token + 1) / ((total * (total + 1)) / 2);
            for (let index = 0; index < shape.headDim; index++) {
              const source = (token * shape.kvHeads + kvHead) * shape.headDim + index;
              output[head * shape.headDim + index] = (output[head * shape.headDim + index] as number) + weight * (stored[source] as number);
              expected[head * shape.headDim + index] = (expected[head * shape.headDim + index] as number) + weight * (values[source] as number);
            }
          }
        }
        scaling.restoreOutput(1, output, 1);
        for (let index = 0; index < output.length; index++) expect(Math.abs((output[index] as number) - (expected[index] as number))).toBeLessThan(1e-5);
      }),
      { numRuns: 30 },
    );
  });
});
