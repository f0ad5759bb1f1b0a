import { createAttention, type CompactAttention } from '@qaq/attention-kernel';
import { CalibratedQueryNorms } from '@qaq/policy';
import { describe, expect, it } from 'vitest';
import { CompactCacheAttention } from './compact-cache-attention.js';
import { ExactLayerAttention } from './exact-attention.test-utils.js';
import type { QaqSettings } from './kv-method.js';
import type { LayerAttentionShape } from './layer-attention.js';

const shape: LayerAttentionShape = {
  layerCount: 2,
  queryHeadCount: 4,
  keyValueHeadCount: 2,
  headDim: 8,
  scoreScale: 1 / Math.sqrt(8),
  slidingWindows: [5, null],
};

/** Deterministic values exactly representable in fp16 (k/64, |k| < 256), so the fp16 cache is lossless. */
function fp16Exact(length: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return ((state >>> 8) % 511) / 64 - 255 / 64;
  });
}

/** Feeds every attention the same fp16-exact chunks on every layer in turn (seeds counted up from `firstSeed`). */
function feedEveryLayer(attentions: readonly CompactCacheAttention[], chunks: readonly number[], firstSeed: number): void {
  const { queryHeadCount, keyValueHeadCount, headDim } = shape;
  let seed = firstSeed;
  for (const chunk of chunks) {
    for (let layer = 0; layer < shape.layerCount; layer++) {
      const sizes = [queryHeadCount, keyValueHeadCount, keyValueHeadCount].map((heads) => chunk * heads * headDim);
      const [query, key, value] = sizes.map((size) => fp16Exact(size, seed++)) as [Float32Array, Float32Array, Float32Array];
      for (const attention of attentions) attention.attend(layer, query, key, value, chunk, new Float32Array(chunk * queryHeadCount * headDim));
    }
  }
}

const kernels: [string, () => Promise<CompactAttention>][] = [
  ['wasm', () => createAttention()],
  ['js', () => createAttention({ preferJs: true })],
];


/** Coarse, fixed settings (not a preset, whose numbers get retuned): B_max 4 and per-head groups, as the checks expect. */
const coarseSettings: QaqSettings = {
  sigmaScoreMax: 0.05,
  sigmaOutputMax: 0.05,
  minBits: 1,
  maxBits: 4,
  outlierFraction: 0.01,
  window: 5,
  groupLayout: 'token-layer-head',
  recentWindow: 0,
  promotionTier: false,
  planInterval: 1,
  rotation: 'none',
  centering: 'none',
  scoreBudgetReferenceTokens: 0,
};

/**
 * Feeds `attention` and exact attention the same fp16-exact chunks on every layer (seeds from `firstSeed`) and
 * checks each output element within `tolerance` and the token counts after each call.
 */
function expectExactOverChunks(
  attention: CompactCacheAttention,
  chunks: readonly number[],
  firstSeed: number,
  tolerance: number,
  reshape: (which: 'query' | 'key' | 'value', data: Float32Array) => Float32Array = (_, data) => data,
): void {
  const exact = new ExactLayerAttention(shape);
  const { queryHeadCount, keyValueHeadCount, headDim } = shape;
  let seed = firstSeed;
  for (const chunk of chunks) {
    for (let layer = 0; layer < shape.layerCount; layer++) {
      const query = reshape('query', fp16Exact(chunk * queryHeadCount * headDim, seed++));
      const key = reshape('key', fp16Exact(chunk * keyValueHeadCount * headDim, seed++));
      const value = reshape('value', fp16Exact(chunk * keyValueHeadCount * headDim, seed++));
      const expected = new Float32Array(chunk * queryHeadCount * headDim);
      const actual = new Float32Array(chunk * queryHeadCount * headDim);
      exact.attend(layer, query, key, value, chunk, expected);
      attention.attend(layer, query, key, value, chunk, actual);
      for (let index = 0; index < expected.length; index++) {
        expect(Math.abs((actual[index] as number) - (expected[index] as number))).toBeLessThan(tolerance);
      }
      expect(attention.tokenCount(layer)).toBe(exact.tokenCount(layer));
    }
  }
}

/** A real head size for the low-bit checks. */
const wideShape: LayerAttentionShape = { ...shape, headDim: 64, scoreScale: 1 / 8 };

/**
 * Squared output error of each attention against exact attention after a 23-token prefill and one decode step on
 * layer 1, where key channel `channel` of every token is 40–42, 16× the rest, as in real keys (qaq-method.md
 * §outliers). Seeds from `firstSeed`.
 */
function errorsWithLargeKeyChannel(attentions: readonly CompactCacheAttention[], channel: number, firstSeed: number): number[] {
  const { queryHeadCount, keyValueHeadCount, headDim } = wideShape;
  const tokens = 24;
  const query = fp16Exact(queryHeadCount * headDim, firstSeed);
  const key = fp16Exact(tokens * keyValueHeadCount * headDim, firstSeed + 1);
  const value = fp16Exact(tokens * keyValueHeadCount * headDim, firstSeed + 2);
  for (let vector = 0; vector < tokens * keyValueHeadCount; vector++) key[vector * headDim + channel] = 40 + (vector % 3);
  const prefillQuery = fp16Exact((tokens - 1) * queryHeadCount * headDim, firstSeed + 3);
  const past = (tokens - 1) * keyValueHeadCount * headDim;
  const step = (attention: { attend: CompactCacheAttention['attend'] }): Float32Array => {
    attention.attend(1, prefillQuery, key.subarray(0, past), value.subarray(0, past), tokens - 1, new Float32Array(prefillQuery.length));
    const output = new Float32Array(queryHeadCount * headDim);
    attention.attend(1, query, key.subarray(past), value.subarray(past), 1, output);
    return output;
  };
  const reference = step(new ExactLayerAttention(wideShape));
  return attentions.map((attention) => step(attention).reduce((sum, value, index) => sum + (value - (reference[index] as number)) ** 2, 0));
}

/**
 * Squared output error of each attention against exact attention on layer 1 of wideShape after a prefill of all
 * tokens but the last and one decode step with the last (queries [T, queryHeads, D], keys and values [T, kvHeads, D]).
 */
function prefillAndStepErrors(attentions: readonly CompactCacheAttention[], queries: Float32Array, key: Float32Array, value: Float32Array): number[] {
  const { queryHeadCount, keyValueHeadCount, headDim } = wideShape;
  const tokens = key.length / (keyValueHeadCount * headDim);
  const prefill = (tokens - 1) * queryHeadCount * headDim;
  const past = (tokens - 1) * keyValueHeadCount * headDim;
  const step = (attention: { attend: CompactCacheAttention['attend'] }): Float32Array => {
    attention.attend(1, queries.subarray(0, prefill), key.subarray(0, past), value.subarray(0, past), tokens - 1, new Float32Array(prefill));
    const output = new Float32Array(queryHeadCount * headDim);
    attention.attend(1, queries.subarray(prefill), key.subarray(past), value.subarray(past), 1, output);
    return output;
  };
  const reference = step(new ExactLayerAttention(wideShape));
  return attentions.map((attention) => step(attention).reduce((sum, element, index) => sum + (element - (reference[index] as number)) ** 2, 0));
}

describe.each(kernels)('CompactCacheAttention (%s kernel)', (_, makeKernel) => {
  it('at 16 bits equals exact attention, with sliding-window eviction, over chunks and single steps', async () => {
    const kernel = await makeKernel();
    const compact = new CompactCacheAttention({ shape, kernel, name: 'fp16', mode: { kind: 'fixed', bits: 16, outlierFraction: 0 } });
    const { keyValueHeadCount, headDim } = shape;
    expectExactOverChunks(compact, [3, 1, 4, 1, 1, 6, 2, 1, 1], 1, 1e-5);
    // Between steps the sliding layer keeps window − 1 tokens; the full layer keeps all 20.
    expect(compact.tokenCount(0)).toBe(4);
    expect(compact.tokenCount(1)).toBe(20);
    expect(compact.memory().elements).toBe((4 + 20) * keyValueHeadCount * headDim * 2);
    compact.reset();
    expect(compact.tokenCount(0) + compact.tokenCount(1)).toBe(0);
    expect(compact.memory().bytes).toBe(0);
    compact.dispose();
  });

  it.each(['keys', 'values', 'both'] as const)('with the Hadamard rotation of %s at 16 bits equals exact attention (within fp16 rounding of the rotated vectors)', async (rotation) => {
    const kernel = await makeKernel();
    const rotated = new CompactCacheAttention({ shape, kernel, name: 'fp16', mode: { kind: 'fixed', bits: 16, outlierFraction: 0 }, rotation });
    expectExactOverChunks(rotated, [3, 1, 4, 1, 1], 3, 1e-2);
    rotated.dispose();
  });

  it.each([
    ['both', 'none'],
    ['keys', 'both'],
    ['both', 'both'],
  ] as const)('with centering of %s (rotation %s) at 16 bits equals exact attention, and counts its means', async (centering, rotation) => {
    const kernel = await makeKernel();
    const centered = new CompactCacheAttention({ shape, kernel, name: 'fp16', mode: { kind: 'fixed', bits: 16, outlierFraction: 0 }, rotation, centering });
    // Layer 1 starts centering (re-storing its first 9 tokens) in the 12-token chunk, the sliding layer 0 there too.
    expectExactOverChunks(centered, [3, 1, 4, 1, 12, 1, 2], 5, 1e-2);
    const memory = centered.memory();
    const means = shape.layerCount * shape.keyValueHeadCount * shape.headDim * 4 * (centering === 'both' ? 2 : 1);
    const tags = centered.cache.accounting();
    expect(memory.bytes).toBe(tags.totalBytes - tags.slackBytes - tags.bookkeepingBytes - tags.scratchBytes + means);
    centered.dispose();
  });

  // Rotation: spreads an outlier channel (its share of the range falls by about √D / 2). Centering: removes a
  // channel that is nearly constant over tokens.
  it.each([
    ['the Hadamard rotation', { rotation: 'keys' as const }, 2, 11, 0.8],
    ['centering', { centering: 'keys' as const }, 5, 21, 0.5],
  ])('%s cuts the error of low-bit keys that carry a large channel', async (_, transform, channel, seed, factor) => {
    const kernel = await makeKernel();
    const mode = { kind: 'fixed' as const, bits: 3, outlierFraction: 0 };
    const plain = new CompactCacheAttention({ shape: wideShape, kernel, name: 'uniform:3', mode });
    const transformed = new CompactCacheAttention({ shape: wideShape, kernel, name: 'uniform:3 transformed', mode, ...transform });
    const [plainError, transformedError] = errorsWithLargeKeyChannel([plain, transformed], channel, seed);
    expect(transformedError as number).toBeLessThan(factor * (plainError as number));
    plain.dispose();
    transformed.dispose();
  });

  it.each([
    ['keys', 'none', 'none', 1],
    ['keys', 'keys', 'none', 1],
    ['values', 'both', 'none', 1],
    ['keys and values', 'both', 'none', 2],
    ['keys and values', 'both', 'both', 2],
  ] as const)('with channel scaling of %s (rotation %s, centering %s) at 16 bits equals exact attention across its calibration, and counts its scales', async (sides, rotation, centering, scaledSides) => {
    const kernel = await makeKernel();
    const mode = { kind: 'fixed' as const, bits: 16, outlierFraction: 0 };
    const channelScaling = { keys: sides !== 'values', values: sides !== 'keys' };
    const scaled = new CompactCacheAttention({ shape, kernel, name: 'fp16', mode, rotation, centering, channelScaling });
    // Layer 1 calibrates in the 30-token chunk (re-storing its first 21 tokens; centering waits for it, past its own 16
    // tokens, so it takes its means in the scaled basis); the sliding layer 0 never holds enough. Queries that look
    // at channels 0 and 4 (a RoPE pair) and keys offset there make scales far from 1 and a large key mean.
    const reshape = (which: 'query' | 'key' | 'value', data: Float32Array): Float32Array =>
      which === 'value' ? data : data.map((element, index) => (index % shape.headDim) % 4 === 0 ? (which === 'key' ? element / 4 + 6 : element) : element / 8);
    expectExactOverChunks(scaled, [3, 1, 4, 1, 12, 30, 1, 2], 9, 1e-2, reshape);
    const means = centering === 'none' ? 0 : shape.layerCount * shape.keyValueHeadCount * shape.headDim * 4 * 2;
    const scales = shape.layerCount * shape.keyValueHeadCount * shape.headDim * 4 * 2 * scaledSides + means;
    const tags = scaled.cache.accounting();
    expect(scaled.memory().bytes).toBe(tags.totalBytes - tags.slackBytes - tags.bookkeepingBytes - tags.scratchBytes + scales);
    scaled.dispose();
  });

  it('query-aware key scaling cuts the error of low-bit keys when queries look at a few channels', async () => {
    const kernel = await makeKernel();
    // Keys at 3 bits, values at fp16: the keys' error alone.
    const mode = { kind: 'fixed' as const, bits: 3, outlierFraction: 0, valueBits: 16 };
    const plain = new CompactCacheAttention({ shape: wideShape, kernel, name: 'uniform:3', mode, rotation: 'keys' });
    const channelScaling = { keys: true, values: false };
    const scaled = new CompactCacheAttention({ shape: wideShape, kernel, name: 'uniform:3 scaled', mode, rotation: 'keys', channelScaling });
    const { queryHeadCount, keyValueHeadCount, headDim } = wideShape;
    const tokens = 48;
    // Queries weigh RoPE pairs 0–3 (channels 0–3 and 32–35) 16× the rest; keys spread evenly.
    const looked = (index: number): boolean => index % headDim < 4 || (index % headDim >= 32 && index % headDim < 36);
    const queries = fp16Exact(tokens * queryHeadCount * headDim, 31).map((element, index) => element * (looked(index) ? 1 : 1 / 16));
    const key = fp16Exact(tokens * keyValueHeadCount * headDim, 32).map((element) => element / 4);
    const value = fp16Exact(tokens * keyValueHeadCount * headDim, 33);
    const [plainError, scaledError] = prefillAndStepErrors([plain, scaled], queries, key, value);
    expect(scaledError as number).toBeLessThan(0.5 * (plainError as number));
    plain.dispose();
    scaled.dispose();
  });

  it('equalizing value scaling cuts the error of low-bit values that carry a few large channels', async () => {
    const kernel = await makeKernel();
    // Values at 3 bits, keys at fp16: the values' error alone.
    const mode = { kind: 'fixed' as const, bits: 16, outlierFraction: 0, valueBits: 3 };
    const plain = new CompactCacheAttention({ shape: wideShape, kernel, name: 'values at 3', mode, rotation: 'values' });
    const channelScaling = { keys: false, values: true };
    const scaled = new CompactCacheAttention({ shape: wideShape, kernel, name: 'values at 3 scaled', mode, rotation: 'values', channelScaling });
    const { queryHeadCount, keyValueHeadCount, headDim } = wideShape;
    const tokens = 48;
    const queries = fp16Exact(tokens * queryHeadCount * headDim, 41).map((element) => element / 8);
    const key = fp16Exact(tokens * keyValueHeadCount * headDim, 42).map((element) => element / 8);
    // Channels 3 and 17 of every value are 16× the rest, as a few channels of real values are.
    const value = fp16Exact(tokens * keyValueHeadCount * headDim, 43).map((element, index) => (index % headDim === 3 || index % headDim === 17 ? element : element / 16));
    const [plainError, scaledError] = prefillAndStepErrors([plain, scaled], queries, key, value);
    expect(scaledError as number).toBeLessThan(0.5 * (plainError as number));
    plain.dispose();
    scaled.dispose();
  });

  it('QAQ mode demotes old tokens, keeps the policy in step with sliding eviction, and reports its bits', async () => {
    const kernel = await makeKernel();
    const settings = { ...coarseSettings, window: 2 };
    const qaq = new CompactCacheAttention({ shape, kernel, name: 'qaq', mode: { kind: 'qaq', settings } });
    const atMaxBits = new CompactCacheAttention({ shape, kernel, name: 'uniform:4', mode: { kind: 'fixed', bits: 4, outlierFraction: settings.outlierFraction } });
    const { queryHeadCount, keyValueHeadCount, headDim } = shape;
    let seed = 7;
    for (const chunk of [8, 1, 1, 1, 1, 1, 1]) {
      for (let layer = 0; layer < shape.layerCount; layer++) {
        const output = new Float32Array(chunk * queryHeadCount * headDim);
        const query = fp16Exact(chunk * queryHeadCount * headDim, seed++);
        const key = fp16Exact(chunk * keyValueHeadCount * headDim, seed++);
        const value = fp16Exact(chunk * keyValueHeadCount * headDim, seed++);
        qaq.attend(layer, query, key, value, chunk, output);
        atMaxBits.attend(layer, query, key, value, chunk, new Float32Array(output.length));
        expect(output.every(Number.isFinite)).toBe(true);
        expect(qaq.policy?.tokenCount(layer)).toBe(qaq.tokenCount(layer));
      }
    }
    expect(qaq.tokenCount(0)).toBe(4);
    expect(qaq.tokenCount(1)).toBe(14);
    // Old tokens of the full layer went below B_max = 4 (the compact preset), so the average is below it.
    const store = qaq.cache.store('keys', 1);
    const bits = Array.from({ length: 14 * keyValueHeadCount }, (_, group) => store.bitsOf(group));
    expect(Math.min(...bits)).toBeLessThan(4);
    // Same tokens, same groups: fewer bytes than every group at B_max (overhead at D = 8 is 7 bits/element).
    expect(qaq.memory().elements).toBe(atMaxBits.memory().elements);
    // memory() counts the policy's attention statistics too (1 byte per token and layer here, large beside D = 8).
    const { bytes, policyBytes } = qaq.memory();
    expect(policyBytes).toBe(qaq.policy?.statisticsLiveByteLength());
    expect(policyBytes).toBeGreaterThan(0);
    expect(bytes - (policyBytes ?? 0)).toBeLessThan(atMaxBits.memory().bytes);
    expect(atMaxBits.memory().policyBytes).toBeUndefined();
    atMaxBits.dispose();
    expect(qaq.onlineQueryNorms?.observationCount(0, 0)).toBeGreaterThan(0);
    qaq.dispose();
  });

  it('keeps attention sinks at fp16 (sink=N), a chunk split at the boundary, until sliding eviction drops them', async () => {
    const kernel = await makeKernel();
    const settings = { ...coarseSettings, window: 1, sinkTokens: 3 };
    const qaq = new CompactCacheAttention({ shape, kernel, name: 'qaq:sink=3', mode: { kind: 'qaq', settings } });
    const { queryHeadCount, keyValueHeadCount, headDim } = shape;
    let seed = 23;
    for (const chunk of [2, 3, 1, 1, 1, 1]) {
      for (let layer = 0; layer < shape.layerCount; layer++) {
        const output = new Float32Array(chunk * queryHeadCount * headDim);
        qaq.attend(layer, fp16Exact(chunk * queryHeadCount * headDim, seed++), fp16Exact(chunk * keyValueHeadCount * headDim, seed++), fp16Exact(chunk * keyValueHeadCount * headDim, seed++), chunk, output);
        expect(output.every(Number.isFinite)).toBe(true);
      }
    }
    // The full layer holds 9 tokens: the first 3 stay at 16 bits on both sides, later ones were demoted below B_max.
    const bitsOf = (kind: 'keys' | 'values', layer: number, tokens: number): number[] =>
      Array.from({ length: tokens * keyValueHeadCount }, (_, group) => qaq.cache.store(kind, layer).bitsOf(group));
    for (const kind of ['keys', 'values'] as const) {
      const bits = bitsOf(kind, 1, 9);
      expect(bits.slice(0, 3 * keyValueHeadCount).every((width) => width === 16)).toBe(true);
      expect(Math.min(...bits.slice(3 * keyValueHeadCount))).toBeLessThan(4);
    }
    // The sliding layer (window 5) keeps 4 tokens: positions 5..8, none of them a sink.
    expect(qaq.policy?.sinkTokenCount(0)).toBe(0);
    expect(bitsOf('keys', 0, 4).includes(16)).toBe(false);
    qaq.reset();
    expect(qaq.policy?.sinkTokenCount(0)).toBe(3);
    qaq.dispose();
    // Centering re-stores the tokens held when it sets its means (here at 20): the sinks stay at fp16.
    const centered = new CompactCacheAttention({ shape, kernel: await makeKernel(), name: 'qaq:sink=3,center=both', mode: { kind: 'qaq', settings: { ...settings, centering: 'both' } } });
    for (const chunk of [10, 10]) {
      centered.attend(1, fp16Exact(chunk * queryHeadCount * headDim, seed++), fp16Exact(chunk * keyValueHeadCount * headDim, seed++), fp16Exact(chunk * keyValueHeadCount * headDim, seed++), chunk, new Float32Array(chunk * queryHeadCount * headDim));
    }
    for (const kind of ['keys', 'values'] as const) {
      const bits = Array.from({ length: 20 * keyValueHeadCount }, (_, group) => centered.cache.store(kind, 1).bitsOf(group));
      expect(bits.slice(0, 3 * keyValueHeadCount).every((width) => width === 16)).toBe(true);
      expect(bits.slice(3 * keyValueHeadCount).includes(16)).toBe(false);
    }
    centered.dispose();
  });

  it('plans only every k-th decode step with planInterval k (prefill chunks always plan)', async () => {
    const kernel = await makeKernel();
    const { queryHeadCount, keyValueHeadCount, headDim } = shape;
    const make = (planInterval: number): CompactCacheAttention =>
      new CompactCacheAttention({ shape, kernel, name: 'qaq', mode: { kind: 'qaq', settings: { ...coarseSettings, window: 1, planInterval } } });
    const everyStep = make(1);
    const rarely = make(1000);
    let seed = 11;
    for (const chunk of [6, 1, 1, 1]) {
      const query = fp16Exact(chunk * queryHeadCount * headDim, seed++);
      const key = fp16Exact(chunk * keyValueHeadCount * headDim, seed++);
      const value = fp16Exact(chunk * keyValueHeadCount * headDim, seed++);
      for (const attention of [everyStep, rarely]) attention.attend(1, query, key, value, chunk, new Float32Array(chunk * queryHeadCount * headDim));
    }
    // Tokens 6..8 came in decode steps: planned (demoted from B_max = 4) every step, never with k = 1000.
    const decodedBits = (attention: CompactCacheAttention): number[] =>
      [6, 7].flatMap((token) => [0, 1].map((head) => attention.cache.store('values', 1).bitsOf(token * keyValueHeadCount + head)));
    expect(Math.min(...decodedBits(everyStep))).toBeLessThan(4);
    expect(decodedBits(rarely).every((bits) => bits === 4)).toBe(true);
    everyStep.dispose();
    rarely.dispose();
  });

  it('enters new keys and values at their own widths (kbnew= / vbnew=); a plan that wants more leaves them there', async () => {
    const kernel = await makeKernel();
    const { queryHeadCount, keyValueHeadCount, headDim } = shape;
    const make = (sigma: number, planInterval: number): CompactCacheAttention =>
      new CompactCacheAttention({
        shape,
        kernel,
        name: 'qaq',
        mode: { kind: 'qaq', settings: { ...coarseSettings, sigmaScoreMax: sigma, sigmaOutputMax: sigma, window: 1, planInterval, keyEntryBits: 3, valueEntryBits: 2 } },
      });
    // Unplanned decode steps (k = 1000) and budgets so tight that every plan wants B_max = 4 on both sides.
    const waiting = make(0.05, 1000);
    const demanding = make(1e-9, 1);
    let seed = 31;
    for (const chunk of [6, 1, 1, 1]) {
      const query = fp16Exact(chunk * queryHeadCount * headDim, seed++);
      const key = fp16Exact(chunk * keyValueHeadCount * headDim, seed++);
      const value = fp16Exact(chunk * keyValueHeadCount * headDim, seed++);
      for (const attention of [waiting, demanding]) attention.attend(1, query, key, value, chunk, new Float32Array(chunk * queryHeadCount * headDim));
    }
    const bitsOf = (attention: CompactCacheAttention, kind: 'keys' | 'values'): number[] =>
      Array.from({ length: 9 * keyValueHeadCount }, (_, group) => attention.cache.store(kind, 1).bitsOf(group));
    for (const attention of [waiting, demanding]) {
      expect(bitsOf(attention, 'keys').slice(6 * keyValueHeadCount)).toEqual(Array(3 * keyValueHeadCount).fill(3));
      expect(bitsOf(attention, 'values').slice(6 * keyValueHeadCount)).toEqual(Array(3 * keyValueHeadCount).fill(2));
    }
    // The prefill entered at the same widths: no plan could raise them without the tier.
    expect(Math.max(...bitsOf(demanding, 'keys'))).toBe(3);
    expect(Math.max(...bitsOf(demanding, 'values'))).toBe(2);
    waiting.dispose();
    demanding.dispose();
  });

  it('plans only the layers named by plannedLayers (layers=); the others keep their entry width', async () => {
    const kernel = await makeKernel();
    const { keyValueHeadCount } = shape;
    const settings = { ...coarseSettings, window: 2 };
    expect(() => new CompactCacheAttention({ shape, kernel, name: 'qaq', mode: { kind: 'qaq', settings: { ...settings, plannedLayers: [2] } } })).toThrow(/layers the model does not have/);
    const every = new CompactCacheAttention({ shape, kernel, name: 'qaq', mode: { kind: 'qaq', settings } });
    const firstOnly = new CompactCacheAttention({ shape, kernel, name: 'qaq:layers=0', mode: { kind: 'qaq', settings: { ...settings, plannedLayers: [0] } } });
    feedEveryLayer([every, firstOnly], [8, 1, 1, 1, 1, 1, 1], 7);
    const bitsOf = (attention: CompactCacheAttention, layer: number): number[] =>
      Array.from({ length: attention.tokenCount(layer) * keyValueHeadCount }, (_, group) => attention.cache.store('keys', layer).bitsOf(group));
    // Layer 1 is demoted when planned, and stays at B_max = 4 when not; layer 0 is planned the same in both.
    expect(Math.min(...bitsOf(every, 1))).toBeLessThan(4);
    expect(bitsOf(firstOnly, 1).every((bits) => bits === 4)).toBe(true);
    expect(bitsOf(firstOnly, 0)).toEqual(bitsOf(every, 0));
    every.dispose();
    firstOnly.dispose();
  });

  it('plans the full-context layers of a mixed model with their own settings (fullsk= / fullwindow= / fullplan= …)', async () => {
    const kernel = await makeKernel();
    const { keyValueHeadCount } = shape;
    // Layer 0 slides (window 5), layer 1 sees everything: only layer 1 takes fullplan = 1000 (no decode plans).
    const settings = { ...coarseSettings, window: 1, fullContext: { planInterval: 1000, window: 2 } };
    const qaq = new CompactCacheAttention({ shape, kernel, name: 'qaq:fullplan=1000', mode: { kind: 'qaq', settings } });
    const unmixed = new CompactCacheAttention({ shape: { ...shape, slidingWindows: [null, null] }, kernel, name: 'qaq:fullplan=1000', mode: { kind: 'qaq', settings } });
    expect(qaq.policyOf(1)).not.toBe(qaq.policyOf(0));
    expect(qaq.policyOf(0)).toBe(qaq.policy);
    expect(qaq.policyOf(1)?.config.window).toBe(2);
    expect(unmixed.policyOf(1)).toBe(unmixed.policy);
    feedEveryLayer([qaq, unmixed], [4, 1, 1, 1], 51);
    const decodedValueBits = (attention: CompactCacheAttention, layer: number): number[] => {
      const tokens = attention.tokenCount(layer);
      return Array.from({ length: 3 * keyValueHeadCount }, (_, index) => attention.cache.store('values', layer).bitsOf((tokens - 3) * keyValueHeadCount + index));
    };
    // Layer 1's decoded tokens wait at B_max = 4 for a plan that does not come in a mixed model; planned otherwise.
    expect(decodedValueBits(qaq, 1).every((bits) => bits === 4)).toBe(true);
    expect(Math.min(...decodedValueBits(unmixed, 1))).toBeLessThan(4);
    // Both policies' statistics are counted.
    const both = (qaq.policyOf(0)?.statisticsLiveByteLength() ?? 0) + (qaq.policyOf(1)?.statisticsLiveByteLength() ?? 0);
    expect(qaq.memory().policyBytes).toBe(both);
    qaq.dispose();
    unmixed.dispose();
    // slidingsk= / slidingwindow= / slidingplan=: the sliding layers' own policy; a model without them ignores it.
    const slidingSettings = { ...coarseSettings, window: 1, sliding: { window: 3, sigmaScoreMax: 0.5 } };
    const slidingOwn = new CompactCacheAttention({ shape, kernel, name: 'qaq:slidingwindow=3', mode: { kind: 'qaq', settings: slidingSettings } });
    expect(slidingOwn.policyOf(0)?.config).toMatchObject({ window: 3, sigmaScoreMax: 0.5 });
    expect(slidingOwn.policyOf(1)).toBe(slidingOwn.policy);
    expect(slidingOwn.policy?.config).toMatchObject({ window: 1, sigmaScoreMax: coarseSettings.sigmaScoreMax });
    slidingOwn.dispose();
    // slidingsv= / slidingkbmin= / slidingvbmin= (and the full… ones): a kind's own value budget and floors. Keys
    // floored at B_max in the sliding layer stay there; the full-context layer still demotes its keys.
    const floors = { ...coarseSettings, window: 1, sliding: { sigmaOutputMax: 0.2, keyMinBits: 4, valueMinBits: 2 }, staggeredPlans: true };
    const floored = new CompactCacheAttention({ shape, kernel: await makeKernel(), name: 'qaq:slidingkbmin=4', mode: { kind: 'qaq', settings: floors } });
    expect(floored.policyOf(0)?.config).toMatchObject({ sigmaOutputMax: 0.2, keyMinBits: 4, valueMinBits: 2, staggeredPlans: true });
    expect(floored.policy?.config.staggeredPlans).toBe(true);
    expect(floored.policyOf(1)?.config).toMatchObject({ sigmaOutputMax: coarseSettings.sigmaOutputMax });
    feedEveryLayer([floored], [4, 1, 1, 1], 71);
    const keyBits = (layer: number): number[] =>
      Array.from({ length: floored.tokenCount(layer) * keyValueHeadCount }, (_, group) => floored.cache.store('keys', layer).bitsOf(group));
    expect(keyBits(0).every((bits) => bits === 4)).toBe(true);
    expect(Math.min(...keyBits(1))).toBeLessThan(4);
    floored.dispose();
  });

  it('hands the kernel QaqSettings.negligibleProbability (skip=) on every call; exact by default', async () => {
    const kernel = await makeKernel();
    const { queryHeadCount, keyValueHeadCount, headDim } = shape;
    const seen: (number | undefined)[] = [];
    const recording: CompactAttention = Object.assign(Object.create(kernel) as CompactAttention, {
      attendMulti: (...args: Parameters<CompactAttention['attendMulti']>) => {
        seen.push(args[4].negligibleProbability);
        return kernel.attendMulti(...args);
      },
    });
    for (const negligibleProbability of [1e-5, undefined]) {
      seen.length = 0;
      const settings = negligibleProbability === undefined ? coarseSettings : { ...coarseSettings, negligibleProbability };
      const attention = new CompactCacheAttention({ shape, kernel: recording, name: 'qaq', mode: { kind: 'qaq', settings } });
      let seed = 31;
      for (const chunk of [5, 1, 1]) {
        attention.attend(1, fp16Exact(chunk * queryHeadCount * headDim, seed++), fp16Exact(chunk * keyValueHeadCount * headDim, seed++), fp16Exact(chunk * keyValueHeadCount * headDim, seed++), chunk, new Float32Array(chunk * queryHeadCount * headDim));
      }
      expect(seen).toEqual([negligibleProbability ?? 0, negligibleProbability ?? 0, negligibleProbability ?? 0]);
      attention.dispose();
    }
  });

  it('uses a calibrated query-norm table instead of the online estimate when given one', async () => {
    const kernel = await makeKernel();
    const { queryHeadCount, keyValueHeadCount, headDim } = shape;
    const settings = { ...coarseSettings, window: 1 };
    const table = (value: number): CalibratedQueryNorms =>
      new CalibratedQueryNorms({
        format: 'qaq-query-norms',
        version: 1,
        quantile: 0.9,
        scoreScale: shape.scoreScale,
        layers: shape.layerCount,
        kvHeads: keyValueHeadCount,
        values: [
          [value, value],
          [value, value],
        ],
      });
    // A tiny ‖q̃‖² allows a large key error (few key bits); a huge one forces B_max on every key.
    const loose = new CompactCacheAttention({ shape, kernel, name: 'loose', mode: { kind: 'qaq', settings, queryNorms: table(1e-6) } });
    const strict = new CompactCacheAttention({ shape, kernel, name: 'strict', mode: { kind: 'qaq', settings, queryNorms: table(1e6) } });
    expect(loose.onlineQueryNorms).toBeNull();
    const chunk = 6;
    const query = fp16Exact(chunk * queryHeadCount * headDim, 3);
    const key = fp16Exact(chunk * keyValueHeadCount * headDim, 4);
    const value = fp16Exact(chunk * keyValueHeadCount * headDim, 5);
    for (const attention of [loose, strict]) attention.attend(1, query, key, value, chunk, new Float32Array(chunk * queryHeadCount * headDim));
    const keyBits = (attention: CompactCacheAttention): number[] =>
      Array.from({ length: chunk * keyValueHeadCount }, (_, group) => attention.cache.store('keys', 1).bitsOf(group));
    expect(keyBits(strict).every((bits) => bits === settings.maxBits)).toBe(true);
    expect(Math.max(...keyBits(loose))).toBeLessThan(settings.maxBits);
    loose.dispose();
    strict.dispose();
  });
});
