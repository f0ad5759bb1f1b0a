import { AttentionAwarePolicy, CalibratedQueryNorms, LayerPlan } from '@qaq/policy';
import { describe, expect, it } from 'vitest';
import { KvCache } from './kv-cache.js';
import { fp16Values } from './random.test-utils.js';
import { AttentionWorkspace, referenceAttention, referenceAttentionMulti } from './reference-attention.js';

/**
 * The whole loop on one layer: prefill attention → observePrefill → plan → apply, then decode steps of
 * append → attention → observe → plan → apply, against an all-fp16 twin cache fed the same tokens.
 */
function run(sigmaScore: number, sigmaOutput: number): { rmsError: number; rmsProbabilityError: number; bitsPerElement: number } {
  const kvHeads = 2;
  const queryHeads = 4;
  const headDim = 32;
  const prompt = 48;
  const steps = 12;
  const scoreScale = 1 / Math.sqrt(headDim);
  const tokenLength = kvHeads * headDim;
  const compact = new KvCache({ layers: 1, kvHeads, headDim, outlierFraction: 0.05 });
  const exact = new KvCache({ layers: 1, kvHeads, headDim });
  // Slowly varying queries (a fixed direction plus small noise), so past attention predicts future attention
  // as the paper assumes of real models; i.i.d. random queries would defeat any predictor.
  const base = fp16Values(queryHeads * headDim, 100, 1.5);
  const noise = fp16Values((prompt + steps) * queryHeads * headDim, 101, 0.05);
  const queries = noise.map((value, index) => (base[index % (queryHeads * headDim)] as number) + value);
  const keys = fp16Values((prompt + steps) * tokenLength, 102);
  const values = fp16Values((prompt + steps) * tokenLength, 103);
  // ‖c·q‖² quantile: computed from the queries themselves (as calibration would).
  const norms: number[] = [];
  for (let row = 0; row < (prompt + steps) * queryHeads; row += 1) {
    let sum = 0;
    for (let element = 0; element < headDim; element += 1) sum += (queries[row * headDim + element] as number) ** 2;
    norms.push(sum * scoreScale * scoreScale);
  }
  norms.sort((a, b) => a - b);
  const quantile = norms[Math.floor(0.9 * (norms.length - 1))] as number;
  const policy = new AttentionAwarePolicy(
    { layers: 1, kvHeads, scoreScale, sigmaScoreMax: sigmaScore, sigmaOutputMax: sigmaOutput, minBits: 1, maxBits: 8, window: 3 },
    new CalibratedQueryNorms({ format: 'qaq-query-norms', version: 1, quantile: 0.9, scoreScale, layers: 1, kvHeads, values: [[quantile, quantile]] }),
  );
  const plan = new LayerPlan();
  const workspace = new AttentionWorkspace();
  compact.append(0, keys.subarray(0, prompt * tokenLength), values.subarray(0, prompt * tokenLength), prompt, 8, 8);
  exact.append(0, keys.subarray(0, prompt * tokenLength), values.subarray(0, prompt * tokenLength), prompt, 16, 16);
  const prefillOutput = new Float32Array(prompt * queryHeads * headDim);
  const prefillProbabilities = new Float32Array(prompt * kvHeads * prompt);
  referenceAttentionMulti(compact, 0, queries.subarray(0, prompt * queryHeads * headDim), prompt, { queryHeads, scoreScale }, prefillOutput, prefillProbabilities, workspace);
  policy.observePrefill(0, prefillProbabilities, prompt, prompt);
  policy.decide(0, compact.view(0), plan);
  compact.applyPlan(0, plan);
  const output = new Float32Array(queryHeads * headDim);
  const reference = new Float32Array(queryHeads * headDim);
  const probabilities = new Float32Array(kvHeads * (prompt + steps));
  const exactProbabilities = new Float32Array(kvHeads * (prompt + steps));
  let squaredError = 0;
  let count = 0;
  let squaredProbabilityError = 0;
  let probabilityCount = 0;
  for (let step = 0; step < steps; step += 1) {
    const position = prompt + step;
    const keyRow = keys.subarray(position * tokenLength, (position + 1) * tokenLength);
    const valueRow = values.subarray(position * tokenLength, (position + 1) * tokenLength);
    compact.append(0, keyRow, valueRow, 1, 8, 8);
    exact.append(0, keyRow, valueRow, 1, 16, 16);
    const query = queries.subarray(position * queryHeads * headDim, (position + 1) * queryHeads * headDim);
    const tokenCount = position + 1;
    referenceAttention(compact, 0, query, { queryHeads, scoreScale }, output, probabilities.subarray(0, kvHeads * tokenCount), workspace);
    referenceAttention(exact, 0, query, { queryHeads, scoreScale }, reference, exactProbabilities.subarray(0, kvHeads * tokenCount), workspace);
    for (let index = 0; index < kvHeads * tokenCount; index += 1) {
      squaredProbabilityError += ((probabilities[index] as number) - (exactProbabilities[index] as number)) ** 2;
      probabilityCount += 1;
    }
    for (let index = 0; index < output.length; index += 1) {
      squaredError += ((output[index] as number) - (reference[index] as number)) ** 2;
      count += 1;
    }
    policy.observe(0, probabilities.subarray(0, kvHeads * tokenCount), tokenCount);
    policy.decide(0, compact.view(0), plan);
    compact.applyPlan(0, plan);
  }
  return {
    rmsError: Math.sqrt(squaredError / count),
    rmsProbabilityError: Math.sqrt(squaredProbabilityError / probabilityCount),
    bitsPerElement: compact.accounting().bitsPerElement,
  };
}

describe('end to end: attention → policy → cache', () => {
  it('values: the attention-output error stays within σ_X,max; a looser σ_X spends fewer bits', () => {
    // Keys held near-exact (σ_S tiny → B_max) so the output error is the values' alone.
    const tight = run(1e-6, 0.01);
    const loose = run(1e-6, 0.1);
    expect(tight.rmsError).toBeLessThan(0.01 * 1.2);
    expect(loose.rmsError).toBeLessThan(0.1 * 1.2);
    expect(loose.rmsError).toBeGreaterThan(tight.rmsError);
    expect(loose.bitsPerElement).toBeLessThan(tight.bitsPerElement);
  });

  it('keys: the attention-probability error stays near σ_S,max; a looser σ_S spends fewer bits', () => {
    // Values held near-exact (σ_X tiny). The paper's key bound is second order: allow a factor of 2.
    const tight = run(0.001, 1e-6);
    const loose = run(0.01, 1e-6);
    expect(tight.rmsProbabilityError).toBeLessThan(2 * 0.001);
    expect(loose.rmsProbabilityError).toBeLessThan(2 * 0.01);
    expect(loose.rmsProbabilityError).toBeGreaterThan(tight.rmsProbabilityError);
    expect(loose.bitsPerElement).toBeLessThan(tight.bitsPerElement);
  });
});
