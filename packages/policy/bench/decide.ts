/**
 * What one layer's `decide` costs at a given context, with the paper's uniform key bound and with keys sized by
 * attention (keyBound 'attention': one log and one square root per group more). Synthetic but shaped like
 * SmolLM2-135M's planning: 3 KV heads, per-(token, layer) groups, window 5, 3-bit groups with ranges in [1, 2) and
 * attention around 1/T. Both bounds run in the same process, alternating rounds so they see the same machine load.
 *
 * Usage: node --conditions=source --import tsx packages/policy/bench/decide.ts [--tokens 7168] [--rounds 10] [--reps 30]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { AttentionAwarePolicy, CalibratedQueryNorms, keyBounds, LayerPlan, type CacheLayerView, type KeyBound } from '../src/index.js';

const { values } = parseArgs({ options: { tokens: { type: 'string', default: '7168' }, rounds: { type: 'string', default: '10' }, reps: { type: 'string', default: '30' } } });
const tokenCount = Number(values.tokens);
const rounds = Number(values.rounds);
const reps = Number(values.reps);
const kvHeads = 3;

/** A deterministic LCG in [0, 1), so every run plans the same groups. */
function uniformSequence(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const next = uniformSequence(7);
const ranges = Float64Array.from({ length: tokenCount }, () => 1 + next());
const bits = new Uint8Array(tokenCount).fill(3);
const view: CacheLayerView = {
  tokenCount,
  groupsPerToken: 1,
  canPromote: false,
  recentTokens: 0,
  keyBits: (group) => bits[group] as number,
  valueBits: (group) => bits[group] as number,
  keyRange: (group) => ranges[group] as number,
  valueRange: (group) => ranges[group] as number,
  readGroups: (_kind, bitsOut, rangesOut) => {
    bitsOut.set(bits);
    rangesOut.set(ranges);
  },
};
const probabilities = Float32Array.from({ length: kvHeads * tokenCount }, () => (2 * next()) / tokenCount);
const norms = new CalibratedQueryNorms({
  format: 'qaq-query-norms',
  version: 1,
  quantile: 0.9,
  scoreScale: 0.125,
  layers: 1,
  kvHeads,
  values: [Array.from({ length: kvHeads }, () => 20)],
});

function policyFor(keyBound: KeyBound): AttentionAwarePolicy {
  const policy = new AttentionAwarePolicy(
    { layers: 1, kvHeads, scoreScale: 0.125, sigmaScoreMax: 0.0003, sigmaOutputMax: 0.05, minBits: 2, maxBits: 8, window: 5, groupLayout: 'token-layer', keyBound },
    norms,
  );
  for (let step = 0; step < 5; step += 1) policy.observe(0, probabilities, tokenCount);
  return policy;
}

const policies = keyBounds.map((keyBound) => ({ keyBound, policy: policyFor(keyBound), plan: new LayerPlan(tokenCount), samples: [] as number[] }));
for (const entry of policies) for (let warm = 0; warm < reps; warm += 1) entry.policy.decide(0, view, entry.plan);
const loadBefore = loadavg()[0] as number;
for (let round = 0; round < rounds; round += 1) {
  for (const entry of policies) {
    const start = performance.now();
    for (let rep = 0; rep < reps; rep += 1) entry.policy.decide(0, view, entry.plan);
    entry.samples.push((performance.now() - start) / reps);
  }
}
const median = (samples: readonly number[]): number => [...samples].sort((a, b) => a - b)[samples.length >> 1] as number;
process.stdout.write(`decide, one layer, ${tokenCount} tokens, ${kvHeads} KV heads per group (1-minute load ${loadBefore.toFixed(2)} before)\n`);
for (const { keyBound, samples } of policies) process.stdout.write(`  keyBound ${keyBound}: ${median(samples).toFixed(3)} ms (median of ${rounds} rounds × ${reps})\n`);
