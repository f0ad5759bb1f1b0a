import { QaqError } from '@qaq/errors';
import type { AttentionStatistics } from './attention-statistics.js';
import { AttentionWindow } from './attention-window.js';
import { RunningAttentionMaximum } from './running-attention-maximum.js';
import { keyAllowedStd } from '@qaq/quantization';
import type { CacheLayerView } from './cache-view.js';
import { fastBitsForRange } from './fast-bits.js';
import { effectiveSigmaScoreMax, resolvePolicyConfig, type PolicyConfig, type ResolvedPolicyConfig } from './config.js';
import type { KindPlan, LayerPlan } from './layer-plan.js';
import type { QueryNormSource } from './query-norms.js';

/**
 * The QAQ attention-aware policy. Each step: `observe` every layer's attention statistics, then `decide`
 * each layer's plan against the cache's view, then let the cache apply it.
 *
 * For a group spanning several KV heads (groupLayout 'token-layer'), the attention statistic is the
 * maximum over those heads and ‖q̃‖² the maximum over those heads: both are the conservative choice.
 * Keys follow the paper's uniform bound, or with keyBound 'attention' the same bound at the token's predicted
 * attention S_t instead of 1/T (keyAllowedStdForAttention of @qaq/quantization, as attentionKeyStd below), or with
 * 'attention-shared' that bound at σ_S,max / √T.
 */
export class AttentionAwarePolicy {
  readonly config: ResolvedPolicyConfig;
  private readonly attention: AttentionStatistics;
  /** Set when plans are at least `window` steps apart: the running maximum that replaces the ring. */
  private readonly running: RunningAttentionMaximum | null;
  /**
   * Per layer: decode steps since the last decide (observed or passed), counted from the layer's phase after a
   * sequence start or a plan off the cadence (config.staggeredPlans).
   */
  private readonly stepsSinceDecide: Float64Array;
  /** Per layer: where its cadence starts (0 unless config.staggeredPlans). */
  private readonly planPhase: Float64Array;
  /** Per layer: the cache's token count as last reported (the statistics lag it over passed steps). */
  private readonly cacheTokens: Float64Array;
  private readonly queryNorms: QueryNormSource;
  /** Per-head allowed key std (the uniform bound) for the layer being decided; allocated once. */
  private readonly keyStdScratch: Float64Array;
  /** Per-head ‖q̃‖² for the layer being decided (the attention bound's denominator); allocated once. */
  private readonly queryNormScratch: Float64Array;
  /** Per-group state read from the cache each decide; grown by doubling. */
  private keyBitsScratch = new Uint8Array(0);
  private valueBitsScratch = new Uint8Array(0);
  private keyRangeScratch = new Float64Array(0);
  private valueRangeScratch = new Float64Array(0);
  /** Predicted attention S_t per group of the layer being planned (AttentionWindow.windowMaxima). */
  private attentionScratch = new Float32Array(0);
  /** Per layer: tokens evicted since the sequence began (token i is position i + evicted), for the sinks. */
  private readonly evictedTokens: Float64Array;

  constructor(config: PolicyConfig, queryNorms: QueryNormSource) {
    this.config = resolvePolicyConfig(config);
    this.queryNorms = queryNorms;
    // Groups spanning every KV head read only the maximum over heads: keep just that.
    const { layers, kvHeads, window, initialCapacityTokens, planInterval } = this.config;
    const options = { mergeHeads: this.config.groupLayout !== 'token-layer-head' };
    this.running = planInterval !== 0 && planInterval >= window ? new RunningAttentionMaximum(layers, kvHeads, window, initialCapacityTokens, options) : null;
    this.attention = this.running ?? new AttentionWindow(layers, kvHeads, window, initialCapacityTokens, options);
    this.planPhase = new Float64Array(layers);
    if (this.config.staggeredPlans && planInterval > 1) {
      for (let layer = 0; layer < layers; layer++) this.planPhase[layer] = Math.floor((layer * planInterval) / layers);
    }
    this.stepsSinceDecide = Float64Array.from(this.planPhase);
    this.cacheTokens = new Float64Array(layers);
    this.keyStdScratch = new Float64Array(this.config.kvHeads);
    this.queryNormScratch = new Float64Array(this.config.kvHeads);
    this.evictedTokens = new Float64Array(this.config.layers);
  }

  get groupsPerToken(): number {
    return this.config.groupLayout === 'token-layer-head' ? this.config.kvHeads : 1;
  }

  /**
   * Whether the layer's next decode step's statistics reach a plan: always with the ring; with the running maximum
   * only for the last `window` steps before the next plan (the caller may then skip computing them: `passStep`).
   */
  recordsNextStep(layer: number): boolean {
    if (this.running === null) return true;
    const { planInterval, window } = this.config;
    return (this.stepsSinceDecide[layer] ?? 0) + 1 > planInterval - window;
  }

  /**
   * Whether the layer's decode steps since its last plan reached the declared cadence (`planInterval`; every step when
   * none was declared): the caller plans then, so the policy's step count is the one the cadence runs on.
   */
  planDue(layer: number): boolean {
    return (this.stepsSinceDecide[layer] ?? 0) >= Math.max(1, this.config.planInterval);
  }

  /** Records one decode step's statistics of a layer: [kvHeads, tokenCount] max-over-query-heads probabilities. */
  observe(layer: number, probabilities: Float32Array, tokenCount: number): void {
    if (this.recordsNextStep(layer)) this.attention.observe(layer, probabilities, tokenCount);
    else this.checkGrowing(layer, tokenCount);
    this.cacheTokens[layer] = tokenCount;
    this.stepsSinceDecide[layer] = (this.stepsSinceDecide[layer] ?? 0) + 1;
  }

  /**
   * A decode step whose statistics were not computed because `recordsNextStep` said no plan reads them; `tokenCount`
   * is the cache's, as `observe` would have had it.
   */
  passStep(layer: number, tokenCount: number): void {
    if (this.recordsNextStep(layer)) {
      throw new QaqError('statistics-needed', 'this step\'s attention statistics reach the next plan: observe them', {
        details: { layer, stepsSinceDecide: this.stepsSinceDecide[layer] },
      });
    }
    this.checkGrowing(layer, tokenCount);
    this.cacheTokens[layer] = tokenCount;
    this.stepsSinceDecide[layer] = (this.stepsSinceDecide[layer] ?? 0) + 1;
  }

  /**
   * Records a prefill: `probabilities` is [queryCount, kvHeads, tokenCount] from causal multi-query attention
   * (query i at position tokenCount − queryCount + i). The last `window` rows are observed in order, each with
   * its causal token count, so prompt tokens end with full windows and the newest ones without. Checked whole
   * before anything is recorded.
   */
  observePrefill(layer: number, probabilities: Float32Array, queryCount: number, tokenCount: number): void {
    const { kvHeads, window } = this.config;
    if (
      !Number.isInteger(queryCount) ||
      !Number.isInteger(tokenCount) ||
      queryCount < 1 ||
      queryCount > tokenCount ||
      probabilities.length !== queryCount * kvHeads * tokenCount
    ) {
      throw new QaqError('shape-mismatch', 'probabilities must be [queryCount, kvHeads, tokenCount]', {
        details: { length: probabilities.length, queryCount, kvHeads, tokenCount },
      });
    }
    const firstRow = Math.max(0, queryCount - window);
    const firstRowTokens = tokenCount - queryCount + firstRow + 1;
    if (firstRowTokens < this.attention.tokenCount(layer)) {
      throw new QaqError('token-count-mismatch', 'prefill rows see fewer tokens than already observed', {
        details: { layer, firstRowTokens, observed: this.attention.tokenCount(layer) },
      });
    }
    for (let index = firstRow * kvHeads * tokenCount; index < probabilities.length; index += 1) {
      const probability = probabilities[index] as number;
      if (!(probability >= 0 && probability <= 1.0001)) {
        throw new QaqError('invalid-attention', 'attention probabilities must be finite and in [0, 1]', {
          details: { layer, index, probability },
        });
      }
    }
    // A chunk with a full window of rows is the whole window: the running maximum starts over, as the ring would
    // have turned over every slot. A shorter chunk adds its rows to what was recorded before it.
    if (queryCount - firstRow >= window) this.running?.restart(layer);
    for (let row = firstRow; row < queryCount; row += 1) {
      const rowTokens = tokenCount - queryCount + row + 1;
      this.attention.observe(layer, probabilities, rowTokens, row * kvHeads * tokenCount, tokenCount);
    }
    this.cacheTokens[layer] = tokenCount;
  }

  /** Mirrors the cache's sliding-window eviction. */
  evictOldest(layer: number, count: number): void {
    const cacheTokens = this.cacheTokens[layer] ?? 0;
    if (!Number.isInteger(count) || count < 0 || count > cacheTokens) {
      throw new QaqError('invalid-eviction', 'evict count must be in 0..tokenCount', { details: { layer, count, tokenCount: cacheTokens } });
    }
    // The statistics hold the cache's oldest tokens (those of the last recorded step): they lose the same ones.
    this.attention.evictOldest(layer, Math.min(count, this.attention.tokenCount(layer)));
    this.cacheTokens[layer] = cacheTokens - count;
    // An eviction that empties the layer ends the sequence: the next token is position 0 again, the plan cadence
    // starts over.
    const ended = cacheTokens === count;
    this.evictedTokens[layer] = ended ? 0 : (this.evictedTokens[layer] as number) + count;
    if (ended) {
      this.running?.restart(layer);
      this.stepsSinceDecide[layer] = this.planPhase[layer] as number;
    }
  }

  /** Tokens at the start of a layer that are attention sinks (never demoted): sinkTokens minus those evicted. */
  sinkTokenCount(layer: number): number {
    return Math.max(0, this.config.sinkTokens - (this.evictedTokens[layer] ?? 0));
  }

  tokenCount(layer: number): number {
    return this.attention.tokenCount(layer);
  }

  /** Predicted attention of (token, group) of a layer: the window maximum. */
  predictedAttention(layer: number, token: number, group: number): number {
    return this.config.groupLayout === 'token-layer-head'
      ? this.attention.windowMax(layer, group, token)
      : this.attention.windowMaxOverHeads(layer, token);
  }

  hasFullWindow(layer: number, token: number): boolean {
    return this.attention.hasFullWindow(layer, token);
  }

  /**
   * Bytes of the attention statistics the policy keeps beside the cache (they grow with the tokens): the running
   * maximum's 8-bit code per token and row when plans are at least `window` steps apart, else the ring's `window`.
   */
  statisticsByteLength(): number {
    return this.attention.byteLength();
  }

  /** Of statisticsByteLength, the bytes holding live tokens' statistics (what grows with the context). */
  statisticsLiveByteLength(): number {
    return this.attention.liveByteLength();
  }

  private checkGrowing(layer: number, tokenCount: number): void {
    const previous = this.cacheTokens[layer] ?? 0;
    if (!Number.isInteger(tokenCount) || tokenCount < previous || tokenCount < 1) {
      throw new QaqError('token-count-mismatch', 'token count must be ≥ the previous count (evict first)', {
        details: { layer, tokenCount, previous },
      });
    }
  }

  /** Writes the layer's plan into `plan` (reused; grows only when the layer outgrows it). */
  decide(layer: number, view: CacheLayerView, plan: LayerPlan): void {
    const tokenCount = this.attention.tokenCount(layer);
    if (view.tokenCount !== tokenCount) {
      throw new QaqError('token-count-mismatch', 'the cache and the observed statistics disagree on the token count', {
        details: { layer, cacheTokens: view.tokenCount, observedTokens: tokenCount },
      });
    }
    const groupsPerToken = this.groupsPerToken;
    if (view.groupsPerToken !== groupsPerToken) {
      throw new QaqError('group-layout-mismatch', 'the cache and the policy use different group layouts', {
        details: { cacheGroupsPerToken: view.groupsPerToken, policyGroupsPerToken: groupsPerToken },
      });
    }
    const due = this.planDue(layer);
    const { maxBits, keyMinBits, valueMinBits, keyBound, sigmaOutputMax, kvHeads } = this.config;
    const sigmaScoreMax = effectiveSigmaScoreMax(this.config.sigmaScoreMax, tokenCount, this.config.scoreBudgetReferenceTokens);
    for (let head = 0; head < kvHeads; head += 1) {
      const norm = this.queryNorms.squaredScaledNorm(layer, head);
      if (!(Number.isFinite(norm) && norm > 0)) {
        throw new QaqError('invalid-query-norms', '‖q̃‖² must be finite and > 0', { details: { layer, head, norm } });
      }
      this.keyStdScratch[head] = keyAllowedStd(sigmaScoreMax, tokenCount, norm);
      this.queryNormScratch[head] = norm;
    }
    if (groupsPerToken === 1) {
      // One group spans every head: the tightest (smallest) allowed std of them, the largest ‖q̃‖².
      let smallest = Number.POSITIVE_INFINITY;
      let largestNorm = 0;
      for (let head = 0; head < kvHeads; head += 1) {
        smallest = Math.min(smallest, this.keyStdScratch[head] as number);
        largestNorm = Math.max(largestNorm, this.queryNormScratch[head] as number);
      }
      this.keyStdScratch[0] = smallest;
      this.queryNormScratch[0] = largestNorm;
    }
    const attentionBound = keyBound !== 'uniform';
    // 'attention-shared': the layer's T tokens share σ_S,max, as the values share σ_X,max (KeyBound).
    const tokenSigmaScoreMax = keyBound === 'attention-shared' ? sigmaScoreMax / Math.sqrt(tokenCount) : sigmaScoreMax;
    const groupCount = tokenCount * groupsPerToken;
    this.reserveScratch(groupCount);
    const keyBits = this.keyBitsScratch;
    const valueBits = this.valueBitsScratch;
    const keyRanges = this.keyRangeScratch;
    const valueRanges = this.valueRangeScratch;
    view.readGroups('keys', keyBits, keyRanges);
    view.readGroups('values', valueBits, valueRanges);
    const predicted = this.attentionScratch;
    this.attention.windowMaxima(layer, groupsPerToken === 1, predicted, tokenCount);
    plan.keys.reset(groupCount);
    plan.values.reset(groupCount);
    plan.groupCount = groupCount;
    plan.groupsPerToken = groupsPerToken;
    const canPromote = view.canPromote;
    const recentStart = Math.max(0, tokenCount - Math.max(0, view.recentTokens));
    const sinkEnd = this.sinkTokenCount(layer);
    const valueScale = Math.sqrt(tokenCount);
    for (let token = 0; token < tokenCount; token += 1) {
      const full = this.attention.hasFullWindow(layer, token);
      for (let head = 0; head < groupsPerToken; head += 1) {
        const group = token * groupsPerToken + head;
        const currentKey = keyBits[group] as number;
        const currentValue = valueBits[group] as number;
        if (token >= recentStart || token < sinkEnd) {
          record(plan.keys, group, currentKey, currentKey, canPromote);
          record(plan.values, group, currentValue, currentValue, canPromote);
          continue;
        }
        let keyTarget = maxBits;
        let valueTarget = maxBits;
        if (full) {
          const attention = predicted[group] as number;
          const keyStd = attentionBound
            ? attentionKeyStd(tokenSigmaScoreMax, attention, this.queryNormScratch[head] as number)
            : (this.keyStdScratch[head] as number);
          keyTarget = fastBitsForRange(keyRanges[group] as number, keyStd, keyMinBits, maxBits);
          // valueAllowedStd of @qaq/quantization, inlined: σ_X,max / (√T · S_t), +Infinity when S_t = 0.
          const valueStd = attention > 0 ? sigmaOutputMax / (valueScale * attention) : Number.POSITIVE_INFINITY;
          valueTarget = fastBitsForRange(valueRanges[group] as number, valueStd, valueMinBits, maxBits);
        }
        record(plan.keys, group, currentKey, keyTarget, canPromote);
        record(plan.values, group, currentValue, valueTarget, canPromote);
      }
    }
    // The next plan reads only steps recorded after this one; a plan off the cadence (a prefill chunk) puts the layer
    // back on its phase.
    this.running?.restart(layer);
    this.stepsSinceDecide[layer] = due ? 0 : (this.planPhase[layer] as number);
  }

  private reserveScratch(groupCount: number): void {
    if (this.keyBitsScratch.length >= groupCount) return;
    const capacity = Math.max(groupCount, this.keyBitsScratch.length * 2, 64);
    this.keyBitsScratch = new Uint8Array(capacity);
    this.valueBitsScratch = new Uint8Array(capacity);
    this.keyRangeScratch = new Float64Array(capacity);
    this.valueRangeScratch = new Float64Array(capacity);
    this.attentionScratch = new Float32Array(capacity);
  }
}

/** keyAllowedStdForAttention of @qaq/quantization without its argument checks (decide's inputs are checked). */
function attentionKeyStd(sigmaScoreMax: number, attention: number, scaledQueryNormSquared: number): number {
  if (!(attention > 0)) return Number.POSITIVE_INFINITY;
  const ratio = sigmaScoreMax / attention;
  return Math.sqrt(Math.log1p(ratio * ratio) / scaledQueryNormSquared);
}

function record(plan: KindPlan, group: number, current: number, target: number, canPromote: boolean): void {
  if (target < current) {
    plan.demoteGroups[plan.demoteCount] = group;
    plan.demoteBits[plan.demoteCount] = target;
    plan.demoteCount += 1;
    plan.targetBits[group] = target;
  } else if (target > current && canPromote) {
    plan.promoteGroups[plan.promoteCount] = group;
    plan.promoteBits[plan.promoteCount] = target;
    plan.promoteCount += 1;
    plan.targetBits[group] = target;
  } else {
    if (target > current) plan.blockedPromotionCount += 1;
    plan.unchangedCount += 1;
    plan.targetBits[group] = current;
  }
}
