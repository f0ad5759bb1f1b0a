import { QaqError } from '@qaq/errors';

/** How tokens are grouped for quantization; must match the cache's layout. */
export type GroupLayout = 'token-layer-head' | 'token-layer';

/** Bit widths a group can have: 1..8 packed, 16 = fp16 passthrough. */
export function isAllowedBitWidth(bits: number): boolean {
  return Number.isInteger(bits) && ((bits >= 1 && bits <= 8) || bits === 16);
}

/**
 * Which attention the key bound assumes for a token: 'uniform' — the paper's 1/T for every token, so all keys of a
 * layer and head share one allowed error; 'attention' — the token's predicted attention S_t, as the value bound does
 * (keyAllowedStdForAttention), so keys that draw little attention get fewer bits and those that draw much get more;
 * 'attention-shared' — the same at σ_S,max / √T: each token's probability error is then σ_S,max / √T, and the T
 * independent errors of a layer add up to σ_S,max, as the value bound shares σ_X,max (with 'attention' the layer's
 * total grows as √T, so a layer holding 2,048 tokens gets twice the error of one holding 512).
 */
export type KeyBound = 'uniform' | 'attention' | 'attention-shared';

export const keyBounds: readonly KeyBound[] = Object.freeze(['uniform', 'attention', 'attention-shared']);

export interface PolicyConfig {
  /** Number of decoder layers. */
  readonly layers: number;
  /** KV heads per layer. */
  readonly kvHeads: number;
  /** The model's real score scale c (1/√D for Llama, query_pre_attn_scalar^-0.5 for Gemma 3). Required. */
  readonly scoreScale: number;
  /** σ_S,max: allowed std of attention-score error (the key knob). */
  readonly sigmaScoreMax: number;
  /** σ_X,max: allowed std of attention-output error (the value knob). */
  readonly sigmaOutputMax: number;
  /** B_min, 1..8 or 16. */
  readonly minBits: number;
  /** B_max, 1..8 or 16, ≥ B_min. */
  readonly maxBits: number;
  /**
   * The keys' own floor, B_min ≤ it ≤ B_max (default B_min): keys are the fragile side (a 2-bit key breaks
   * scores that no error budget foresees), so a size-first setting can keep values at B_min and keys above it.
   */
  readonly keyMinBits?: number;
  /**
   * The values' own floor, B_min ≤ it ≤ B_max (default B_min): a value whose token draws attention only after it
   * was demoted (the window did not foresee it) is read at this width, so a floor of 3 bounds that error while keys
   * that draw no attention still go to their own floor (keyMinBits).
   */
  readonly valueMinBits?: number;
  /**
   * The keys' bound (KeyBound). Default 'uniform' (the paper's). With scoreBudgetReferenceTokens > 0 the σ_S,max it
   * uses is the context-scaled one for either bound.
   */
  readonly keyBound?: KeyBound;
  /** n: attention is predicted as the maximum over the last n steps. Default 5. */
  readonly window?: number;
  /** Group layout of the cache the plans are for. Default 'token-layer-head'. */
  readonly groupLayout?: GroupLayout;
  /** Tokens per layer to allocate for at first; buffers double beyond. Default 256. */
  readonly initialCapacityTokens?: number;
  /**
   * T_ref: beyond T_ref cached tokens, σ_S,max shrinks as T_ref / T, so the allowed error of the attention
   * probabilities stays proportional to their size (≈ 1/T) instead of absolute. The paper's σ_S,max is absolute:
   * with it the allowed key error grows like √ln(T²σ²) and keys lose bits as the context grows, while the
   * probabilities they decide shrink. 0 (default): the paper's absolute budget.
   */
  readonly scoreBudgetReferenceTokens?: number;
  /**
   * Attention sinks: the first `sinkTokens` positions of a sequence are never demoted (the cache stores them at
   * fp16). They draw a large share of every query's attention, so their key error moves every score, which the
   * attention-blind key budget does not see. Positions count from the start of the sequence, through
   * sliding-window eviction; an eviction that empties a layer starts a new sequence. Default 0.
   */
  readonly sinkTokens?: number;
  /**
   * Decode steps between two `decide` calls of a layer (the caller's plan cadence). When it is at least `window`,
   * the policy records only the last `window` decode steps before each plan (`recordsNextStep`) in one running
   * maximum per token (`RunningAttentionMaximum`), which at every plan equals the ring of the last `window` steps
   * (`AttentionWindow`) it keeps otherwise. Unset (0): no cadence is promised, the ring.
   */
  readonly planInterval?: number;
  /**
   * Staggered plans: layer l's cadence is shifted by ⌊l · planInterval / layers⌋ steps, so the layers do not all plan
   * (and all hold their newest tokens at entry width) on the same step. The cache's size at any step is then about
   * the average over the cadence instead of its peak, and a step's planning work is spread over the steps. A phase
   * applies from a sequence's start and after every plan off the cadence (a prefill chunk). Default false: every
   * layer plans on the same steps.
   */
  readonly staggeredPlans?: boolean;
}

export interface ResolvedPolicyConfig {
  readonly layers: number;
  readonly kvHeads: number;
  readonly scoreScale: number;
  readonly sigmaScoreMax: number;
  readonly sigmaOutputMax: number;
  readonly minBits: number;
  readonly maxBits: number;
  readonly keyMinBits: number;
  readonly valueMinBits: number;
  readonly keyBound: KeyBound;
  readonly window: number;
  readonly groupLayout: GroupLayout;
  readonly initialCapacityTokens: number;
  readonly scoreBudgetReferenceTokens: number;
  readonly sinkTokens: number;
  /** 0 when no plan cadence was declared. */
  readonly planInterval: number;
  readonly staggeredPlans: boolean;
}

function requirePositiveInteger(name: string, value: number, maximum = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < 1 || value > maximum) {
    throw new QaqError('invalid-policy-config', `${name} must be an integer in 1..${maximum}`, {
      details: { [name]: value },
    });
  }
}

function requirePositiveFinite(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new QaqError('invalid-policy-config', `${name} must be a finite number > 0`, {
      details: { [name]: value },
    });
  }
}

/** One side's own floor (keyMinBits / valueMinBits): a bit width in B_min..B_max, default B_min. */
function resolveSideFloor(name: 'keyMinBits' | 'valueMinBits', floor: number | undefined, config: PolicyConfig): number {
  const bits = floor ?? config.minBits;
  if (!isAllowedBitWidth(bits) || bits < config.minBits || bits > config.maxBits) {
    throw new QaqError('invalid-policy-config', `${name} must be a bit width in minBits..maxBits`, {
      details: { [name]: bits, minBits: config.minBits, maxBits: config.maxBits },
    });
  }
  return bits;
}

/** Validates a policy config and fills defaults; throws QaqError('invalid-policy-config'). */
export function resolvePolicyConfig(config: PolicyConfig): ResolvedPolicyConfig {
  requirePositiveInteger('layers', config.layers, 4096);
  requirePositiveInteger('kvHeads', config.kvHeads, 4096);
  requirePositiveFinite('scoreScale', config.scoreScale);
  requirePositiveFinite('sigmaScoreMax', config.sigmaScoreMax);
  requirePositiveFinite('sigmaOutputMax', config.sigmaOutputMax);
  for (const [name, bits] of [
    ['minBits', config.minBits],
    ['maxBits', config.maxBits],
  ] as const) {
    if (!isAllowedBitWidth(bits)) {
      throw new QaqError('invalid-bit-width', `${name} must be 1..8 or 16`, { details: { [name]: bits } });
    }
  }
  if (config.minBits > config.maxBits) {
    throw new QaqError('invalid-policy-config', 'minBits must not exceed maxBits', {
      details: { minBits: config.minBits, maxBits: config.maxBits },
    });
  }
  const keyMinBits = resolveSideFloor('keyMinBits', config.keyMinBits, config);
  const valueMinBits = resolveSideFloor('valueMinBits', config.valueMinBits, config);
  const keyBound = config.keyBound ?? 'uniform';
  if (!keyBounds.includes(keyBound)) {
    throw new QaqError('invalid-policy-config', 'keyBound must be uniform, attention or attention-shared', { details: { keyBound, known: keyBounds } });
  }
  const window = config.window ?? 5;
  requirePositiveInteger('window', window, 255);
  const groupLayout = config.groupLayout ?? 'token-layer-head';
  if (groupLayout !== 'token-layer-head' && groupLayout !== 'token-layer') {
    throw new QaqError('invalid-policy-config', 'groupLayout must be token-layer-head or token-layer', {
      details: { groupLayout },
    });
  }
  const initialCapacityTokens = config.initialCapacityTokens ?? 256;
  requirePositiveInteger('initialCapacityTokens', initialCapacityTokens, 1 << 24);
  const scoreBudgetReferenceTokens = config.scoreBudgetReferenceTokens ?? 0;
  if (scoreBudgetReferenceTokens !== 0) requirePositiveInteger('scoreBudgetReferenceTokens', scoreBudgetReferenceTokens, 1 << 24);
  const sinkTokens = config.sinkTokens ?? 0;
  if (sinkTokens !== 0) requirePositiveInteger('sinkTokens', sinkTokens, 1 << 20);
  const planInterval = config.planInterval ?? 0;
  if (planInterval !== 0) requirePositiveInteger('planInterval', planInterval, 1 << 20);
  return {
    layers: config.layers,
    kvHeads: config.kvHeads,
    scoreScale: config.scoreScale,
    sigmaScoreMax: config.sigmaScoreMax,
    sigmaOutputMax: config.sigmaOutputMax,
    minBits: config.minBits,
    maxBits: config.maxBits,
    keyMinBits,
    valueMinBits,
    keyBound,
    window,
    groupLayout,
    initialCapacityTokens,
    scoreBudgetReferenceTokens,
    sinkTokens,
    planInterval,
    staggeredPlans: config.staggeredPlans ?? false,
  };
}

/** σ_S,max for T cached tokens: the configured value, scaled by T_ref / T beyond T_ref when T_ref > 0. */
export function effectiveSigmaScoreMax(sigmaScoreMax: number, tokenCount: number, referenceTokens: number): number {
  return referenceTokens > 0 && tokenCount > referenceTokens ? (sigmaScoreMax * referenceTokens) / tokenCount : sigmaScoreMax;
}
