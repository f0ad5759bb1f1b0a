import { QaqError } from '@qaq/errors';
import type { GroupLayout, KeyBound } from './config.js';

/** A named starting point for the policy's knobs (plain data). */
export interface PolicyPreset {
  readonly name: string;
  readonly sigmaScoreMax: number;
  readonly sigmaOutputMax: number;
  readonly minBits: number;
  readonly maxBits: number;
  /** The keys' own floor (PolicyConfig.keyMinBits), B_min..B_max. */
  readonly keyMinBits: number;
  /** The values' own floor (PolicyConfig.valueMinBits), B_min..B_max. */
  readonly valueMinBits: number;
  /** The keys' bound (PolicyConfig.keyBound). */
  readonly keyBound: KeyBound;
  /** Outlier fraction α (both sides together) for the cache. */
  readonly outlierFraction: number;
  readonly window: number;
  readonly groupLayout: GroupLayout;
  /**
   * Decode steps between two plans of a layer (statistics are observed every step; prefill chunks always plan).
   * Demotions are permanent without the fp16 tier, so fewer plans give a token fewer chances to be demoted in a
   * passing dip of its attention (more bits, less error; see `lean`), and the policy's O(T) work runs 1/k as often.
   */
  readonly planInterval: number;
  /** T_ref of PolicyConfig.scoreBudgetReferenceTokens (0: the paper's absolute σ_S,max). */
  readonly scoreBudgetReferenceTokens: number;
  /** Attention sinks kept at fp16 (PolicyConfig.sinkTokens). */
  readonly sinkTokens: number;
}

// Set from a first measurement, not yet validated on held-out text (the evaluation suite will): SmolLM2-135M, 128
// tokens of Moby-Dick then 150 teacher-forced tokens against the fp32 cache
// (`node --conditions=source --import tsx packages/runtime/bench/quality-sweep.ts smollm2 150 <method>`, 2026-11-28):
//   quality  σ_S,max 0.002, σ_X,max 0.02, per (token, layer) groups, α 0.02: KL 0.0199, top-1 97.3%, 4.22 bits/element
//   compact  σ_S,max 0.003, σ_X,max 0.05, per (token, layer) groups, α 0.02: KL 0.0372, top-1 94.7%, 3.85 bits/element
//   (uniform:4 in the same run: KL 0.0830, top-1 86.7%, 4.875 bits/element.)
// Plan interval, same sweep at 200 teacher-forced steps (2026-11-28, `… quality-sweep.ts smollm2 200 qaq:quality
// qaq:quality:plan=4 …`): plan=1 KL 0.0224 top-1 97.0% 4.07 bits/element; plan=4 KL 0.0136, 96.5%, 4.10; plan=8 KL
// 0.0110, 96.5%, 4.14; plan=16 KL 0.0078, 98.5%, 4.33 (the extra bits are the ≤ k newest tokens still at B_max, a
// fixed cost that vanishes at long context). Every preset plans every 8 steps.
// Keys are the sensitive side (tight σ_S,max); per-(token, layer) groups keep one outlier per side at α 0.02 and
// spread the fp16 parameters over 3 heads.
// Context-relative key budget (scoreBudgetReferenceTokens), Moby-Dick, SmolLM2-135M, 2048 tokens in one window of
// 2048 (`node --conditions=source --import tsx packages/evaluation/bench/evaluate-text.ts <gguf> melville-moby_dick.txt
// 2048 2048 <method…>`, 2026-11-28): quality as before (absolute σ_S,max) 3.14 bits/element, KL 0.111; skref=512
// 3.63 / 0.061; skref=384 3.79 / 0.043; skref=256 4.01 / 0.034; compact skref=1024 3.21 / 0.127, skref=512
// 3.39 / 0.095, skref=256 3.77 / 0.047. The absolute budget lets the allowed key error grow with T while the
// probabilities keys decide shrink as 1/T; quality now keeps the key precision of 384 tokens (≈ 3.8 bits/element
// at 2k, under ort-int4's 4.0), compact keeps the paper's budget and the fewest bits.
// Compact stores keys and values Hadamard-rotated (runtime `rotate=both`) with no outlier store (α 0): the rotation
// spreads the keys' large channels, and the 0.5 bits/element of outliers go. Gemma 3 270M, Moby-Dick, 768 tokens in
// one window (same evaluate-text command): with α 0.02 and no rotation 3.65 bits/element, KL 0.119; rotated, α 0:
// 3.11, KL 0.083; Gemma at 8k tokens: 3.43 → 2.80 bits/element (4.67× → 5.72× vs fp16, bench/kv-memory.ts).
// SmolLM2, Moby-Dick, context 512: 3.45 / 0.045 → 3.01 / 0.070 (same Pareto front, lower end).
// Compact floors keys at 3 bits (keyMinBits; values keep B_min 2): 2-bit key groups are what the error budget does
// not foresee. SmolLM2, Moby-Dick, 2048 tokens in one window of 2048 (evaluate-text, 2026-11-28 ~09:55 UTC): compact
// with keys at B_min 2: 2.58 bits/element, KL 0.185; kbmin=3: 2.84 / 0.108; kbmin=4 with sk 0.01: 3.34 / 0.065;
// bmin=3 (both sides): 3.32 / 0.076 — each about 0.3 bits/element below the σ-only curve above at the same KL.
// Attention sinks (sinkTokens): the first positions draw a large share of every query's attention, so their key
// error moves every score; the key budget is attention-blind. SmolLM2, Moby-Dick, 2048 tokens in one window of 2048
// (evaluate-text as above, 2026-12-06): quality 3.79 bits/element, KL 0.0426, top-1 87.3% → sink=1 3.80 / 0.0313 /
// 89.4%, sink=4 3.82 / 0.0309 / 89.4%, sink=16 3.89 / 0.0302; compact 2.84 / 0.1078 / 79.6% → sink=4 2.86 / 0.1006 /
// 81.6%, sink=16 2.94 / 0.0970. The first token carries most of it (it is the sink); every preset keeps 4, as
// StreamingLLM does, for models whose sink is not position 0 alone.
// Balanced is compact with keys floored at 4 bits (values still to 2): on Gemma 3 the keys carry nearly all of
// compact's error. Gemma 3 270M, Moby-Dick from Chapter 1 on, first window of 2048 tokens (evaluate-text with
// STRIDE=2047, 2026-12-06 ~19:30 UTC): compact 3.11 bits/element, KL 0.113; its values alone quantized (keys at 8
// bits) KL 0.009; its keys alone (values at 8 bits) 0.107; values floored at 3 (bmin=3) 3.56 / 0.113; keys floored at
// 4 (kbmin=4, this preset) 3.37 / 0.058 — half the KL for 0.26 bits/element. Over both windows (4095 scored tokens):
// keys alone 5.10 / 0.133, bmin=3 3.57 / 0.130, kbmin=4 3.41 / 0.077 (top-1 84.7%).
// Attentive sizes keys by their token's predicted attention too (keyBound 'attention': the key bound at S_t instead
// of the paper's 1/T for every token), with σ_S,max 0.0003, keys down to 2 bits and values floored at 3 (a value
// demoted before its token drew attention is read at 3 bits, not 2). SmolLM2-135M, Moby-Dick from Chapter 1, first
// window of 2048 tokens (evaluate-text with STRIDE=2047, 2026-12-06 ~21:40–22:20 UTC): compact 2.87 bits/element,
// KL 0.089, top-1 82.0%; compact with keys at 8 bits (kbmin=8: its values' error alone) 5.36 / 0.035; keys by attention
// (kbound=attention, kbmin=2) at σ_S,max 0.003 2.45 / 0.084, 0.001 2.56 / 0.065, 0.0003 2.81 / 0.048, 0.0001
// 3.20 / 0.041 — the values' error is then what is left: sv 0.02 2.85 / 0.043, sv 0.01 2.89 / 0.039 (tighter value
// budgets barely move it), window 20 3.29 / 0.029, both floors at 3 (bmin=3) 3.56 / 0.017, values alone floored at 3
// (vbmin=3, this preset) 3.28 / 0.022 / 92.7%, and with σ_S,max 0.0001 3.66 / 0.014 / 94.0%, 0.0005 3.16 / 0.028 /
// 91.6%; sv 0.1 3.27 / 0.021 / 92.8%. Gemma 3 270M, same
// text and window: kbound=attention, kbmin=2, σ_S,max 0.0003 (values at 2) 3.34 / 0.021 / 92.0% against compact's
// 3.11 / 0.113 and balanced's 3.37 / 0.058; with B_max 6 3.25 / 0.025.
// Lean is attentive with values down to 2 bits, a plan every 32 steps and an attention window of 10 steps, with the
// keys' budget loosened to σ_S,max 0.0004 to pay for both; picked once demotions stopped compounding (nested grids).
// SmolLM2-135M, Moby-Dick from Chapter 1, first window of 2048 tokens (evaluate-text with STRIDE=2047, 2026-12-07
// 00:32–04:17 UTC, bits/element / KL / top-1): attentive:vbmin=2,sk=0.00015 3.04 / 0.0110 / 94.5%; the same with
// plan=16 3.11 / 0.0090 / 95.0%, plan=32 3.18 / 0.0073 / 95.3%, plan=64 3.30 / 0.0062 / 95.5%; plan=16,window=10 3.33 /
// 0.0061 / 96.2%; sk=0.0002,plan=32 3.08 / 0.0088 / 94.6% (this preset's first definition, measured on held-out text
// as `qaq:attentive:vbmin=2,sk=0.0002,plan=32`); sk=0.0003,plan=32,window=8 3.06 / 0.0076 / 95.9%;
// sk=0.0004,plan=32,window=10 (this preset) 3.04 / 0.0080 / 96.2%; attentive itself 3.31 / 0.013 / 95.0%. Fewer plans
// and a longer window cost bits and buy more KL than a tighter key budget (sk=0.0001 at plan 8: 3.18 / 0.010) or an
// 8-bit recent window (recent=32,recentbits=8: 3.06 / 0.0104; recent=64: 3.11 / 0.0096), so it is not only the newest
// tokens waiting at 8 bits: our reading is that a demotion is permanent without the tier, and both demote fewer tokens
// during a passing dip of their attention. Plans every 32 steps also cut the policy's decode work to a quarter; the
// window of 10 cost no memory since session 10: plans every 32 steps keep one running maximum per token
// (RunningAttentionMaximum, 2 bytes per token and layer then, 1 since session 19) whatever the window.
// Watchful is lean watching attention over every step between two plans (window 32 = the plan interval), the keys'
// budget loosened to σ_S,max 0.0012 to pay for it. Chosen in session 10 once longer windows cost no memory.
// SmolLM2-135M, Moby-Dick from Chapter 1, first 4095 tokens in two windows of 2048 (`STRIDE=2047 node
// --conditions=source --import tsx packages/evaluation/bench/evaluate-text.ts <gguf> moby-prose.txt 4095 2048
// <methods…>`, 2026-12-07 06:20–07:01 UTC, bits/element / KL / top-1, the policy's statistics counted): lean 3.11 /
// 0.0080 / 95.1%; lean with sv=0.03 3.14 / 0.0071 / 95.5%, sv=0.03,sk=0.0006 3.01 / 0.0094 / 94.9%; window 16 3.29
// / 0.0052 / 96.1%, with sk=0.0006 3.15 / 0.0068 / 95.9%, sk=0.0008 3.05 / 0.0076 / 95.0%, sk=0.0008,sv=0.04 3.07 /
// 0.0077 / 95.2%, sk=0.0012 2.94 / 0.0103 / 94.5%; window 24 with sk=0.0008 3.19 / 0.0053 / 95.7%, sk=0.0012 3.06 /
// 0.0075 / 95.2%; window 32 with sk=0.0008 3.28 / 0.0044 / 96.4%, **sk=0.0012 (this preset until session 14) 3.15 /
// 0.0062 / 96.0%**. Session 14 averages the cache's bits over the last 128 steps of each window instead of reading
// them right after a plan (packages/evaluation/README.md), and watchful's σ_S,max went to 0.0014 (same command,
// 2026-12-07 17:27–18:03 UTC, with stagger=1, bits/element / KL / top-1): sk=0.0012 3.22 / 0.0061 / 96.1%,
// **sk=0.0014 3.18 / 0.0068 / 96.2%**, sk=0.0016 3.14 / 0.0073 / 95.5%, window 24 with sk=0.001 3.14 / 0.0073 / 96.0%.
// A longer window with looser keys sits on a better front than lean's; the top-1 differences are 1–3 standard errors
// (0.34 points at 4,094 tokens). On Gemma 3 a window of 32 keeps more of each 512-token sliding layer at 8 bits.
const compact = {
  name: 'compact',
  sigmaScoreMax: 0.003,
  sigmaOutputMax: 0.05,
  minBits: 2,
  maxBits: 8,
  keyMinBits: 3,
  valueMinBits: 2,
  keyBound: 'uniform',
  outlierFraction: 0,
  window: 5,
  groupLayout: 'token-layer',
  planInterval: 8,
  scoreBudgetReferenceTokens: 0,
  sinkTokens: 4,
} as const satisfies PolicyPreset;

const lean = { ...compact, name: 'lean', sigmaScoreMax: 0.0004, keyMinBits: 2, valueMinBits: 2, keyBound: 'attention', window: 10, planInterval: 32 } as const;

const presets = {
  quality: {
    name: 'quality',
    sigmaScoreMax: 0.002,
    sigmaOutputMax: 0.02,
    minBits: 2,
    maxBits: 8,
    keyMinBits: 2,
    valueMinBits: 2,
    keyBound: 'uniform',
    outlierFraction: 0.02,
    window: 5,
    groupLayout: 'token-layer',
    planInterval: 8,
    scoreBudgetReferenceTokens: 384,
    sinkTokens: 4,
  },
  compact,
  balanced: { ...compact, name: 'balanced', keyMinBits: 4 },
  attentive: { ...compact, name: 'attentive', sigmaScoreMax: 0.0003, keyMinBits: 2, valueMinBits: 3, keyBound: 'attention' },
  lean,
  watchful: { ...lean, name: 'watchful', sigmaScoreMax: 0.0014, window: 32 },
} as const satisfies Record<string, PolicyPreset>;

export type PolicyPresetName = keyof typeof presets;

export const policyPresetNames: readonly PolicyPresetName[] = Object.freeze(
  Object.keys(presets) as PolicyPresetName[],
);

/** Returns a copy of the named preset. */
export function policyPreset(name: PolicyPresetName): PolicyPreset {
  if (!Object.hasOwn(presets, name)) {
    throw new QaqError('unknown-preset', `unknown policy preset ${String(name)}`, { details: { name, known: policyPresetNames } });
  }
  return { ...presets[name] };
}
