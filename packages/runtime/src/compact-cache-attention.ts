import { QaqError } from '@qaq/errors';
import type { AttentionOptions, KvCache, KvCacheConfig } from '@qaq/kv-cache';
import { AttentionAwarePolicy, LayerPlan, OnlineQueryNormQuantile, type QueryNormSource } from '@qaq/policy';
import { HadamardRotation } from '@qaq/quantization';
import { appendWithSinks } from './append-with-sinks.js';
import { memoryFromAccounting } from './cache-memory.js';
import type { KeyValueMemory } from './key-value-store.js';
import { KeyValueCenteringState, type KeyValueCentering } from './key-value-centering.js';
import type { KeyValueRotation, LayerKindSettings, QaqSettings } from './kv-method.js';
import type { LayerAttention, LayerAttentionShape } from './layer-attention.js';
import { ChannelScaling, type AppendWidths, type ChannelScalingSides, type StoredRotations } from './channel-scaling.js';

/**
 * What CompactCacheAttention attends through: `@qaq/attention-kernel`'s fused kernel (synchronous; its
 * `CompactAttention` fits this type) or an ONNX graph on a backend session (`GraphAttentionKernel`, asynchronous).
 * It makes the cache it reads, and has `referenceAttentionMulti`'s contract.
 */
export interface CacheAttentionKernel {
  readonly kind: string;
  createCache(config: KvCacheConfig): KvCache;
  attendMulti(
    cache: KvCache,
    layer: number,
    queries: Float32Array,
    queryCount: number,
    options: AttentionOptions,
    output: Float32Array,
    maxProbabilities: Float32Array | null,
  ): void | Promise<void>;
  /** Releases what the kernel holds besides the cache (sessions). */
  dispose?(): void | Promise<void>;
}

/** How new tokens are stored: by the QAQ policy, or at one fixed width for every group (the baselines). */
export type CompactCacheMode =
  | {
      readonly kind: 'qaq';
      readonly settings: QaqSettings;
      /** A calibrated ‖q̃‖² table; by default the 0.9 quantile is estimated online from the queries seen. */
      readonly queryNorms?: QueryNormSource;
    }
  | {
      readonly kind: 'fixed';
      /** 1..8, or 16 for the all-fp16 cache. */
      readonly bits: number;
      readonly outlierFraction: number;
      /** The values' width when it differs from `bits` (then the keys' width): the keys-only / values-only ablation. */
      readonly valueBits?: number;
    };

export interface CompactCacheAttentionOptions {
  readonly shape: LayerAttentionShape;
  /** The fused kernel or the graph; the cache is created by it so it reads the pools in place. */
  readonly kernel: CacheAttentionKernel;
  readonly mode: CompactCacheMode;
  readonly name: string;
  /** Tokens per layer the cache and policy allocate for at first (they double beyond). Default 256. */
  readonly initialCapacityTokens?: number;
  /**
   * Which side the cache stores rotated per head (HadamardRotation): keys (the query is rotated with them, so scores
   * are unchanged), values (the output is rotated back), both or none. Default: the mode's setting
   * (QaqSettings.rotation) or 'none'.
   */
  readonly rotation?: KeyValueRotation;
  /**
   * Which side the cache stores centered per layer and KV head (KeyValueCenteringState: exact, the softmax ignores
   * the keys' shift and the values' mean is added back). Default: the mode's setting (QaqSettings.centering) or 'none'.
   */
  readonly centering?: KeyValueCentering;
  /**
   * Per-channel scaling of keys (query-aware) and/or values (equalizing) before quantization (ChannelScaling; exact).
   * Default: the mode's settings (QaqSettings.queryAwareKeyScaling / equalizingValueScaling) or neither.
   */
  readonly channelScaling?: ChannelScalingSides;
}

/** One layer's AttentionOptions, kept between calls: only probabilityRows changes. */
type KernelCallOptions = { -readonly [Key in keyof AttentionOptions]: AttentionOptions[Key] };

/**
 * Attention over the packed mixed-precision cache (@qaq/kv-cache) through the fused kernel
 * (@qaq/attention-kernel). In QAQ mode every layer and step: append the new tokens at B_max (or into the fp16
 * recent window), attend (the kernel returns per-KV-head max probabilities), feed the policy
 * (observe / observePrefill, and the online ‖q̃‖² estimator), then decide and apply that layer's plan: keys by
 * the key bound, values by the attention-weighted value bound (qaq-method.md §2). Demotion is one-way unless the
 * promotion tier is on. Sliding-window layers keep window − 1 tokens between steps (cache and policy evict).
 */
export class CompactCacheAttention implements LayerAttention {
  readonly name: string;
  readonly cache: KvCache;
  /** The policy (QAQ mode), else null; in a mixed model with QaqSettings.fullContext / sliding, that of the other layers (policyOf). */
  readonly policy: AttentionAwarePolicy | null;
  /** The online ‖q̃‖² estimator when no calibrated table was given (QAQ mode), else null. */
  readonly onlineQueryNorms: OnlineQueryNormQuantile | null;
  readonly #shape: LayerAttentionShape;
  readonly #kernel: CacheAttentionKernel;
  readonly #appendBits: number;
  readonly #appendValueBits: number;
  readonly #plan = new LayerPlan();
  /** [min(S, n), kvHeads, T] max probabilities of the last call's last rows; grown by doubling. */
  #probabilities = new Float32Array(0);
  /** Per layer, query rows of a call whose probabilities its policy reads: the attention window n (QAQ mode). */
  readonly #probabilityRows: Int32Array;
  /** The policies of a mixed model's full-context and sliding layers when QaqSettings.fullContext / sliding set their own. */
  readonly #fullContextPolicy: AttentionAwarePolicy | null = null;
  readonly #slidingPolicy: AttentionAwarePolicy | null = null;
  /** Every policy above that exists (memory() sums their statistics). */
  readonly #policies: readonly AttentionAwarePolicy[];
  /** The per-head rotation, or null; with it, rotated copies of the query, key and value (grown by doubling). */
  readonly #rotation: HadamardRotation | null;
  readonly #rotateKeys: boolean;
  readonly #rotateValues: boolean;
  #rotatedQuery = new Float32Array(0);
  #rotatedKey = new Float32Array(0);
  #rotatedValue = new Float32Array(0);
  readonly #centering: KeyValueCenteringState;
  /** Per-channel scaling of keys and/or values (QaqSettings.queryAwareKeyScaling / equalizingValueScaling), or null. */
  readonly #channelScaling: ChannelScaling | null;
  /** What a channel-scaling re-store needs: the stored sides' rotations and the append widths (fixed per instance). */
  readonly #storedRotations: StoredRotations;
  readonly #appendWidths: AppendWidths;
  /** QaqSettings.plannedLayers as a 0/1 flag per layer, or null: every layer is planned. */
  readonly #planned: Uint8Array | null = null;
  /**
   * Per layer, the kernel's options, allocated once (a decode step calls the kernel once per layer): the shape's,
   * QaqSettings' skip=, fastscores= and fastvalues=, the layer's sliding window; probabilityRows is set per call.
   */
  readonly #kernelOptions: KernelCallOptions[];

  constructor(options: CompactCacheAttentionOptions) {
    const { shape, kernel, mode } = options;
    if (shape.queryHeadCount % shape.keyValueHeadCount !== 0 || shape.slidingWindows.length !== shape.layerCount) {
      throw new QaqError('invalid-model-shape', 'query heads must be a multiple of KV heads, with one window entry per layer', {
        details: { ...shape },
      });
    }
    this.name = options.name;
    this.#shape = shape;
    this.#kernel = kernel;
    const initialCapacityTokens = options.initialCapacityTokens ?? 256;
    const common = { layers: shape.layerCount, kvHeads: shape.keyValueHeadCount, headDim: shape.headDim, initialCapacityTokens };
    if (mode.kind === 'qaq') {
      const { settings } = mode;
      this.cache = kernel.createCache({
        ...common,
        groupLayout: settings.groupLayout,
        outlierFraction: settings.outlierFraction,
        recentWindow: settings.recentWindow,
        ...(settings.recentWindowBits === undefined ? {} : { recentWindowBits: settings.recentWindowBits }),
        promotionTier: settings.promotionTier,
        ...(settings.clippedRangeMaxBits === undefined ? {} : { clippedRangeMaxBits: settings.clippedRangeMaxBits }),
      });
      this.onlineQueryNorms =
        mode.queryNorms === undefined
          ? new OnlineQueryNormQuantile({
              layers: shape.layerCount,
              kvHeads: shape.keyValueHeadCount,
              queryHeads: shape.queryHeadCount,
              headDim: shape.headDim,
              scoreScale: shape.scoreScale,
            })
          : null;
      const queryNorms = mode.queryNorms ?? (this.onlineQueryNorms as OnlineQueryNormQuantile);
      // kind: what one kind of layer of a mixed model sets instead of the common settings (none: the common ones).
      const policyFor = (kind: LayerKindSettings = {}): AttentionAwarePolicy => {
        const window = kind.window ?? settings.window;
        const planInterval = kind.planInterval ?? settings.planInterval;
        const keyMinBits = kind.keyMinBits ?? settings.keyMinBits;
        const valueMinBits = kind.valueMinBits ?? settings.valueMinBits;
        return new AttentionAwarePolicy(
          {
            layers: shape.layerCount,
            kvHeads: shape.keyValueHeadCount,
            scoreScale: shape.scoreScale,
            sigmaScoreMax: kind.sigmaScoreMax ?? settings.sigmaScoreMax,
            sigmaOutputMax: kind.sigmaOutputMax ?? settings.sigmaOutputMax,
            minBits: settings.minBits,
            maxBits: settings.maxBits,
            ...(keyMinBits === undefined ? {} : { keyMinBits }),
            ...(valueMinBits === undefined ? {} : { valueMinBits }),
            ...(settings.keyBound === undefined ? {} : { keyBound: settings.keyBound }),
            window,
            groupLayout: settings.groupLayout,
            initialCapacityTokens,
            scoreBudgetReferenceTokens: settings.scoreBudgetReferenceTokens,
            sinkTokens: settings.sinkTokens ?? 0,
            // Plans at least a window apart: the policy records only the steps that reach a plan (see #attendStored).
            planInterval,
            staggeredPlans: settings.staggeredPlans === true,
          },
          queryNorms,
        );
      };
      this.policy = policyFor();
      // A mixed model's two kinds of layers may each have their own budget, window and cadence: a policy per kind.
      const mixed = shape.slidingWindows.some((window) => window !== null);
      const kindPolicy = (kind: LayerKindSettings | undefined): AttentionAwarePolicy | null =>
        mixed && kind !== undefined && Object.keys(kind).length > 0 ? policyFor(kind) : null;
      this.#fullContextPolicy = kindPolicy(settings.fullContext);
      this.#slidingPolicy = kindPolicy(settings.sliding);
      this.#policies = [this.policy, this.#fullContextPolicy, this.#slidingPolicy].filter((policy) => policy !== null);
      this.#probabilityRows = Int32Array.from(shape.slidingWindows, (_, layer) => (this.policyOf(layer) as AttentionAwarePolicy).config.window);
      if (settings.plannedLayers !== undefined) {
        const outside = settings.plannedLayers.filter((layer) => !(Number.isInteger(layer) && layer >= 0 && layer < shape.layerCount));
        if (outside.length > 0) {
          throw new QaqError('invalid-kv-method', `layers= names layers the model does not have (it has ${shape.layerCount})`, {
            details: { plannedLayers: settings.plannedLayers, layerCount: shape.layerCount },
          });
        }
        const planned = new Uint8Array(shape.layerCount);
        for (const layer of settings.plannedLayers) planned[layer] = 1;
        this.#planned = planned;
      }
      this.#appendBits = settings.keyEntryBits ?? settings.maxBits;
      this.#appendValueBits = settings.valueEntryBits ?? settings.maxBits;
    } else {
      this.cache = kernel.createCache({ ...common, outlierFraction: mode.outlierFraction });
      this.policy = null;
      this.#policies = [];
      this.onlineQueryNorms = null;
      this.#appendBits = mode.bits;
      this.#appendValueBits = mode.valueBits ?? mode.bits;
      this.#probabilityRows = new Int32Array(shape.layerCount).fill(1);
    }
    const negligibleProbability = mode.kind === 'qaq' ? (mode.settings.negligibleProbability ?? 0) : 0;
    const fastScores = mode.kind === 'qaq' && mode.settings.fastScores === true;
    const fastValues = mode.kind === 'qaq' && mode.settings.fastValues === true;
    this.#kernelOptions = shape.slidingWindows.map((window) => ({
      queryHeads: shape.queryHeadCount,
      scoreScale: shape.scoreScale,
      probabilityRows: 1,
      negligibleProbability,
      fastScores,
      fastValues,
      ...(window === null ? {} : { slidingWindow: window }),
    }));
    const rotation = options.rotation ?? (mode.kind === 'qaq' ? mode.settings.rotation : 'none');
    this.#rotateKeys = rotation === 'keys' || rotation === 'both';
    this.#rotateValues = rotation === 'values' || rotation === 'both';
    this.#rotation = rotation === 'none' ? null : new HadamardRotation(shape.headDim);
    const centering = options.centering ?? (mode.kind === 'qaq' ? mode.settings.centering : 'none');
    this.#centering = new KeyValueCenteringState(centering, shape.layerCount, shape.keyValueHeadCount, shape.headDim);
    const scaling = options.channelScaling ?? {
      keys: mode.kind === 'qaq' && mode.settings.queryAwareKeyScaling === true,
      values: mode.kind === 'qaq' && mode.settings.equalizingValueScaling === true,
    };
    this.#channelScaling =
      scaling.keys || scaling.values ? new ChannelScaling(scaling, shape.layerCount, shape.keyValueHeadCount, shape.queryHeadCount, shape.headDim) : null;
    this.#storedRotations = { keys: this.#rotateKeys ? this.#rotation : null, values: this.#rotateValues ? this.#rotation : null };
    this.#appendWidths = { keyBits: this.#appendBits, valueBits: this.#appendValueBits };
  }

  /** `vectors` head vectors of `source` rotated into one of the scratch buffers (grown by doubling, never shrunk). */
  #rotated(which: 'query' | 'key' | 'value', source: Float32Array, vectors: number): Float32Array {
    const rotation = this.#rotation as HadamardRotation;
    const length = vectors * this.#shape.headDim;
    let scratch = which === 'query' ? this.#rotatedQuery : which === 'key' ? this.#rotatedKey : this.#rotatedValue;
    if (scratch.length < length) {
      scratch = new Float32Array(Math.max(length, 2 * scratch.length));
      if (which === 'query') this.#rotatedQuery = scratch;
      else if (which === 'key') this.#rotatedKey = scratch;
      else this.#rotatedValue = scratch;
    }
    const target = scratch.subarray(0, length);
    rotation.forward(source, target, vectors);
    return target;
  }

  tokenCount(layer: number): number {
    return this.cache.tokenCount(layer);
  }

  /** The policy that plans a layer (QAQ mode), else null. */
  policyOf(layer: number): AttentionAwarePolicy | null {
    const kind = this.#shape.slidingWindows[layer] === null ? this.#fullContextPolicy : this.#slidingPolicy;
    return kind ?? this.policy;
  }

  /** Synchronous with a synchronous kernel; returns the kernel's promise (policy work after it) with the graph. */
  attend(layer: number, query: Float32Array, key: Float32Array, value: Float32Array, tokenCount: number, output: Float32Array): void | Promise<void> {
    const scaling = this.#channelScaling;
    if (scaling === null) return this.#attendRotated(layer, query, key, value, tokenCount, output);
    const sinks = this.policyOf(layer)?.sinkTokenCount(layer) ?? 0;
    const scaled = scaling.scale(layer, query, key, value, tokenCount, this.cache, this.#storedRotations, this.#appendWidths, sinks);
    const attended = this.#attendRotated(layer, scaled.query, scaled.key, scaled.value, tokenCount, output);
    if (!scaling.scalesValues) return attended;
    // The output is a probability-weighted sum of scaled values: dividing by the scales gives the model's output.
    if (attended instanceof Promise) return attended.then(() => scaling.restoreOutput(layer, output, tokenCount));
    scaling.restoreOutput(layer, output, tokenCount);
  }

  /** Attention with the Hadamard rotation applied to the sides it rotates (and the output rotated back). */
  #attendRotated(layer: number, query: Float32Array, key: Float32Array, value: Float32Array, tokenCount: number, output: Float32Array): void | Promise<void> {
    const rotation = this.#rotation;
    if (rotation === null) return this.#attendStored(layer, query, key, value, tokenCount, output);
    const { queryHeadCount, keyValueHeadCount } = this.#shape;
    const storedQuery = this.#rotateKeys ? this.#rotated('query', query, tokenCount * queryHeadCount) : query;
    const storedKey = this.#rotateKeys ? this.#rotated('key', key, tokenCount * keyValueHeadCount) : key;
    const storedValue = this.#rotateValues ? this.#rotated('value', value, tokenCount * keyValueHeadCount) : value;
    const attended = this.#attendStored(layer, storedQuery, storedKey, storedValue, tokenCount, output);
    if (!this.#rotateValues) return attended;
    // The output is a probability-weighted sum of rotated values: rotating it back gives the model's output.
    const vectors = tokenCount * queryHeadCount;
    if (attended instanceof Promise) return attended.then(() => rotation.inverse(output, output, vectors));
    rotation.inverse(output, output, vectors);
  }

  /** Attention over the cache with the vectors as the cache stores them (rotated when the rotation is on). */
  #attendStored(layer: number, query: Float32Array, key: Float32Array, value: Float32Array, tokenCount: number, output: Float32Array): void | Promise<void> {
    const { queryHeadCount, keyValueHeadCount } = this.#shape;
    const centering = this.#centering;
    if (centering.active) {
      const sinks = this.policyOf(layer)?.sinkTokenCount(layer) ?? 0;
      // Centering takes its means in the basis the layer is stored in: after the channel scales are fixed.
      const basisFixed = this.#channelScaling?.isScaling(layer) ?? true;
      ({ key, value } = centering.center(layer, key, value, tokenCount, this.cache, this.#appendBits, this.#appendValueBits, sinks, basisFixed));
    }
    this.#append(layer, key, value, tokenCount);
    const cachedTokens = this.cache.tokenCount(layer);
    const policy = this.policyOf(layer);
    let probabilities: Float32Array | null = null;
    // The policy reads the last n query rows of a prefill chunk (its window), so only those are kept; and of the
    // decode steps between two plans only the last n, so the kernel skips the statistics of the others.
    const probabilityRows = Math.min(tokenCount, this.#probabilityRows[layer] as number);
    if (policy !== null && (tokenCount > 1 || policy.recordsNextStep(layer))) {
      const length = probabilityRows * keyValueHeadCount * cachedTokens;
      if (this.#probabilities.length < length) this.#probabilities = new Float32Array(Math.max(length, 2 * this.#probabilities.length));
      probabilities = this.#probabilities.subarray(0, length);
    }
    const options = this.#kernelOptions[layer] as KernelCallOptions;
    options.probabilityRows = probabilityRows;
    const attended = this.#kernel.attendMulti(this.cache, layer, query, tokenCount, options, output, probabilities);
    if (attended instanceof Promise) {
      return attended.then(() => {
        centering.restoreOutput(layer, output, tokenCount, queryHeadCount);
        this.#afterAttention(layer, query, tokenCount, cachedTokens, probabilities, probabilityRows);
      });
    }
    centering.restoreOutput(layer, output, tokenCount, queryHeadCount);
    this.#afterAttention(layer, query, tokenCount, cachedTokens, probabilities, probabilityRows);
  }

  /** Appends a call's tokens: those at sink positions still to come in this layer at fp16, the rest at the append width. */
  #append(layer: number, key: Float32Array, value: Float32Array, tokenCount: number): void {
    const policy = this.policyOf(layer);
    const sinks = policy === null ? 0 : policy.sinkTokenCount(layer) - this.cache.tokenCount(layer);
    appendWithSinks(this.cache, layer, key, value, tokenCount, sinks, this.#appendBits, this.#appendValueBits);
  }

  /** Policy observe / decide / apply and sliding-window eviction, once the attention of a call is done. */
  #afterAttention(
    layer: number,
    query: Float32Array,
    tokenCount: number,
    cachedTokens: number,
    probabilities: Float32Array | null,
    probabilityRows: number,
  ): void {
    const window = this.#shape.slidingWindows[layer] ?? null;
    const policy = this.policyOf(layer);
    if (policy !== null) {
      this.onlineQueryNorms?.observe(layer, query);
      if (probabilities === null) policy.passStep(layer, cachedTokens);
      else if (tokenCount === 1) policy.observe(layer, probabilities, cachedTokens);
      else policy.observePrefill(layer, probabilities, probabilityRows, cachedTokens);
      // Prefill chunks always plan; decode steps every planInterval (the policy counts them).
      const planned = this.#planned === null || this.#planned[layer] === 1;
      if ((tokenCount > 1 || policy.planDue(layer)) && planned) {
        policy.decide(layer, this.cache.view(layer), this.#plan);
        this.cache.applyPlan(layer, this.#plan);
      }
    }
    // The next step of a sliding layer sees window − 1 past tokens: drop the rest now, so memory stays bounded.
    if (window !== null && cachedTokens > window - 1) {
      const evicted = cachedTokens - (window - 1);
      this.cache.evictOldest(layer, evicted);
      policy?.evictOldest(layer, evicted);
    }
  }

  reset(): void {
    for (let layer = 0; layer < this.#shape.layerCount; layer++) {
      const count = this.cache.tokenCount(layer);
      if (count === 0) continue;
      this.cache.evictOldest(layer, count);
      this.policyOf(layer)?.evictOldest(layer, count);
    }
  }

  memory(): KeyValueMemory {
    // Every byte the method keeps for its tokens: the cache, the centering means, the channel scales and the policy's statistics.
    let statisticsLive = 0;
    let statisticsHeld = 0;
    for (const policy of this.#policies) {
      statisticsLive += policy.statisticsLiveByteLength();
      statisticsHeld += policy.statisticsByteLength();
    }
    const statisticsSlack = statisticsHeld - statisticsLive + (this.#channelScaling?.calibrationBytes ?? 0);
    const transformBytes = this.#centering.bytes + (this.#channelScaling?.bytes ?? 0);
    const memory = memoryFromAccounting(this.cache.accounting(), transformBytes + statisticsLive, statisticsSlack);
    return this.policy === null ? memory : { ...memory, policyBytes: statisticsLive };
  }

  dispose(): void | Promise<void> {
    this.cache.dispose();
    return this.#kernel.dispose?.();
  }
}
