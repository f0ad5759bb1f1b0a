/**
 * Sizes (bits per element, all-in) and per-layer decode-step times of the compact cache on the two default
 * models' shapes, with synthetic Gaussian K/V (1% of elements ×8). Timings are single-threaded CPU.
 * Run: node --conditions=source --import tsx packages/kv-cache/bench/decode-step.ts
 */
import { AttentionAwarePolicy, CalibratedQueryNorms, LayerPlan, policyPreset } from '@qaq/policy';
import { AttentionWorkspace, KvCache, referenceAttention, UniformKvCache } from '@qaq/kv-cache';
import { gaussian } from './synthetic-values.js';

interface Shape {
  readonly name: string;
  readonly kvHeads: number;
  readonly queryHeads: number;
  readonly headDim: number;
  readonly scoreScale: number;
}

const shapes: readonly Shape[] = [
  { name: 'SmolLM2-135M', kvHeads: 3, queryHeads: 9, headDim: 64, scoreScale: 1 / 8 },
  { name: 'Gemma-3-270M', kvHeads: 1, queryHeads: 4, headDim: 256, scoreScale: 1 / 16 },
];

const tokens = 1024;
for (const shape of shapes) {
  const tokenLength = shape.kvHeads * shape.headDim;
  const keys = gaussian(tokens * tokenLength);
  const values = gaussian(tokens * tokenLength);
  for (const groupLayout of ['token-layer-head', 'token-layer'] as const) {
    const row: string[] = [];
    for (const bits of [1, 2, 3, 4, 8, 16]) {
      const cache = new UniformKvCache({ layers: 1, kvHeads: shape.kvHeads, headDim: shape.headDim, groupLayout, outlierFraction: 0.01 }, bits);
      cache.appendUniform(0, keys, values, tokens);
      const accounting = cache.accounting();
      row.push(`${bits}b ${accounting.bitsPerElement.toFixed(3)} (${accounting.compressionRatio.toFixed(2)}×)`);
    }
    console.log(`${shape.name} ${groupLayout} α=1%, bits/element: ${row.join(' | ')}`);
  }

  // One layer's decode step at T = 1024 with the policy: append, attention, observe, decide, apply.
  const preset = policyPreset('quality');
  const cache = new KvCache({ layers: 1, kvHeads: shape.kvHeads, headDim: shape.headDim, outlierFraction: 0.01 });
  const norms = new CalibratedQueryNorms({
    format: 'qaq-query-norms',
    version: 1,
    quantile: 0.9,
    scoreScale: shape.scoreScale,
    layers: 1,
    kvHeads: shape.kvHeads,
    values: [Array.from({ length: shape.kvHeads }, () => 30)],
  });
  const policy = new AttentionAwarePolicy({ ...preset, layers: 1, kvHeads: shape.kvHeads, scoreScale: shape.scoreScale }, norms);
  cache.append(0, keys.subarray(0, (tokens - 1) * tokenLength), values.subarray(0, (tokens - 1) * tokenLength), tokens - 1, 8, 8);
  const query = gaussian(shape.queryHeads * shape.headDim);
  const output = new Float32Array(query.length);
  const probabilities = new Float32Array(shape.kvHeads * (tokens + 64));
  const plan = new LayerPlan();
  const workspace = new AttentionWorkspace();
  const times = { append: [] as number[], attention: [] as number[], decide: [] as number[], apply: [] as number[] };
  const steps = 40;
  for (let step = 0; step < steps; step += 1) {
    const token = keys.subarray(((step * 7) % tokens) * tokenLength, ((step * 7) % tokens + 1) * tokenLength);
    let start = performance.now();
    cache.append(0, token, token, 1, 8, 8);
    times.append.push(performance.now() - start);
    start = performance.now();
    referenceAttention(cache, 0, query, { queryHeads: shape.queryHeads, scoreScale: shape.scoreScale }, output, probabilities, workspace);
    times.attention.push(performance.now() - start);
    start = performance.now();
    const tokenCount = cache.tokenCount(0);
    policy.observe(0, probabilities.subarray(0, shape.kvHeads * tokenCount), tokenCount);
    policy.decide(0, cache.view(0), plan);
    times.decide.push(performance.now() - start);
    start = performance.now();
    cache.applyPlan(0, plan);
    times.apply.push(performance.now() - start);
  }
  const accounting = cache.accounting();
  // Median over the steps after the first.
  const perStep = (samples: number[]): string => {
    const sorted = samples.slice(1).sort((a, b) => a - b);
    return (sorted[Math.floor(sorted.length / 2)] as number).toFixed(3);
  };
  console.log(
    `${shape.name} one layer, T≈${tokens + steps}, median ms/step: append ${perStep(times.append)}, reference attention ${perStep(times.attention)}, ` +
      `observe+decide ${perStep(times.decide)}, applyPlan ${perStep(times.apply)} (slowest step, when the prompt's windows fill and it is demoted at once: decide ${Math.max(...times.decide).toFixed(2)}, applyPlan ${Math.max(...times.apply).toFixed(2)}); after ${steps} steps ('quality' preset, synthetic attention): ` +
      `${accounting.bitsPerElement.toFixed(3)} bits/element`,
  );
}
