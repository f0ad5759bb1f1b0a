import { QaqError } from '@qaq/errors';
import type { GroupLayout } from './config.js';

/** A named starting point for the policy's knobs (plain data). */
export interface PolicyPreset {
  readonly name: string;
  readonly sigmaScoreMax: number;
  readonly sigmaOutputMax: number;
  readonly minBits: number;
  readonly maxBits: number;
  /** Outlier fraction α (both sides together) for the cache. */
  readonly outlierFraction: number;
  readonly window: number;
  readonly groupLayout: GroupLayout;
}

// 'quality' was set from a first measurement (packages/runtime/bench/quality-sweep.ts, 200 teacher-forced tokens of
// Moby-Dick): σ_S,max 0.003 / σ_X,max 0.01 gave KL 0.050 and 92.5% top-1 agreement at 4.08 bits/element on SmolLM2,
// KL 0.022–0.027 and 96% on Gemma 3, where σ_S,max 0.01 gave KL 0.196 (keys are the sensitive side). 'compact' is
// still a guess. Both are to be tuned by the evaluation suite on text they were not tuned on.
const presets = {
  quality: {
    name: 'quality',
    sigmaScoreMax: 0.003,
    sigmaOutputMax: 0.01,
    minBits: 2,
    maxBits: 8,
    outlierFraction: 0.01,
    window: 5,
    groupLayout: 'token-layer-head',
  },
  compact: {
    name: 'compact',
    sigmaScoreMax: 0.05,
    sigmaOutputMax: 0.05,
    minBits: 1,
    maxBits: 4,
    outlierFraction: 0.01,
    window: 5,
    groupLayout: 'token-layer-head',
  },
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
