import { QaqError } from '@qaq/errors';
import type { CacheLayerView, LayerPlan } from '@qaq/policy';
import { emptyAccounting, finishAccounting, type CacheAccounting } from './accounting.js';
import { resolveKvCacheConfig, type KvCacheConfig, type ResolvedKvCacheConfig } from './config.js';
import { GroupStore } from './group-store.js';
import type { ByteArena } from './arena.js';
import type { AttentionSource } from './reference-attention.js';
import { assertBits, assertLayer, assertLength, assertStorable } from './validation.js';

export type KvKind = 'keys' | 'values';

/** Run-time placement of a cache (not part of its serialized config). */
export interface KvCacheStorage {
  /** Put the pools and per-group tag and slot arrays in this arena (for example a kernel's WebAssembly.Memory). */
  readonly arena?: ByteArena | null;
}

/**
 * The compact KV cache: per layer, keys and values as groups in pools per bit width (see README).
 * Data layout of inputs and outputs is token-major [tokens, kvHeads, headDim].
 */
export class KvCache implements AttentionSource {
  readonly config: ResolvedKvCacheConfig;
  /** Elements per group: headDim, or kvHeads · headDim for per-(token, layer) groups. */
  readonly groupLength: number;
  readonly groupsPerToken: number;
  /** Elements per token of one kind: kvHeads · headDim. */
  readonly tokenLength: number;
  readonly kvHeads: number;
  readonly headDim: number;
  private readonly keyStores: GroupStore[] = [];
  private readonly valueStores: GroupStore[] = [];
  private readonly views: CacheLayerView[] = [];

  /** Where the pools live: null for the JS heap. */
  readonly arena: ByteArena | null;

  constructor(config: KvCacheConfig, storage: KvCacheStorage = {}) {
    this.config = resolveKvCacheConfig(config);
    this.arena = storage.arena ?? null;
    const { kvHeads, headDim, groupLayout } = this.config;
    this.groupsPerToken = groupLayout === 'token-layer-head' ? kvHeads : 1;
    this.groupLength = groupLayout === 'token-layer-head' ? headDim : kvHeads * headDim;
    this.tokenLength = kvHeads * headDim;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    const options = {
      groupLength: this.groupLength,
      groupsPerToken: this.groupsPerToken,
      outlierFraction: this.config.outlierFraction,
      promotionTier: this.config.promotionTier,
      initialCapacityTokens: this.config.initialCapacityTokens,
      clippedRangeMaxBits: this.config.clippedRangeMaxBits,
      arena: this.arena,
    };
    for (let layer = 0; layer < this.config.layers; layer += 1) {
      this.keyStores.push(new GroupStore(options));
      this.valueStores.push(new GroupStore(options));
      this.views.push(this.createView(layer));
    }
  }

  tokenCount(layer: number): number {
    assertLayer(layer, this.config.layers);
    return this.store('keys', layer).groupCount / this.groupsPerToken;
  }

  /** The store of one kind of one layer (read-only use: bits, slots, pools). */
  store(kind: KvKind, layer: number): GroupStore {
    assertLayer(layer, this.config.layers);
    return (kind === 'keys' ? this.keyStores[layer] : this.valueStores[layer]) as GroupStore;
  }

  /** First token of the recent window of a layer. */
  recentStart(layer: number): number {
    return Math.max(0, this.tokenCount(layer) - this.config.recentWindow);
  }

  /**
   * Appends `tokenCount` tokens to a layer (keys and values [tokenCount, kvHeads, headDim]) at the given bits
   * (held at recentWindowBits, fp16 by default, while in the recent window). On a sliding-window layer the oldest tokens beyond the window
   * are evicted; returns how many, so the policy can mirror it.
   */
  append(layer: number, keys: Float32Array, values: Float32Array, tokenCount: number, keyBits: number, valueBits: number): number {
    assertLayer(layer, this.config.layers);
    if (!Number.isInteger(tokenCount) || tokenCount < 1) {
      throw new QaqError('shape-mismatch', 'tokenCount must be a positive integer', { details: { tokenCount } });
    }
    const length = tokenCount * this.tokenLength;
    assertLength('keys', keys, length);
    assertLength('values', values, length);
    assertBits('keyBits', keyBits);
    assertBits('valueBits', valueBits);
    assertStorable('keys', keys, length);
    assertStorable('values', values, length);
    const keyStore = this.store('keys', layer);
    const valueStore = this.store('values', layer);
    const oldCount = this.tokenCount(layer);
    const newCount = oldCount + tokenCount;
    const recentWindow = this.config.recentWindow;
    const recentBits = this.config.recentWindowBits;
    const newRecentStart = Math.max(0, newCount - recentWindow);
    keyStore.reserveGroups(newCount * this.groupsPerToken);
    valueStore.reserveGroups(newCount * this.groupsPerToken);
    for (let index = 0; index < tokenCount; index += 1) {
      const recent = oldCount + index >= newRecentStart;
      for (let head = 0; head < this.groupsPerToken; head += 1) {
        const offset = index * this.tokenLength + head * this.groupLength;
        // A token bound for more bits than the window's (an fp16 sink) gets them at once: nothing to restore later.
        keyStore.appendGroup(keys, offset, recent ? Math.max(recentBits, keyBits) : keyBits, keyBits);
        valueStore.appendGroup(values, offset, recent ? Math.max(recentBits, valueBits) : valueBits, valueBits);
      }
    }
    // Tokens that just left the recent window get their first quantization.
    const leavingEnd = Math.min(oldCount, newRecentStart) * this.groupsPerToken;
    for (let group = Math.max(0, oldCount - recentWindow) * this.groupsPerToken; group < leavingEnd; group += 1) {
      keyStore.requantize(group, keyStore.pendingBits[group] as number);
      valueStore.requantize(group, valueStore.pendingBits[group] as number);
    }
    const window = this.config.slidingWindow[layer] ?? null;
    if (window !== null && newCount > window) {
      const evicted = newCount - window;
      this.evictOldest(layer, evicted);
      return evicted;
    }
    this.compactLayer(layer);
    return 0;
  }

  /** Shrinks the layer's pools that hold far fewer live slots than their capacity (GroupStore.compactPools). */
  private compactLayer(layer: number): void {
    (this.keyStores[layer] as GroupStore).compactPools();
    (this.valueStores[layer] as GroupStore).compactPools();
  }

  /**
   * Applies a policy plan to a layer: demotions re-quantize to fewer bits, promotions re-quantize from the
   * fp16 tier. The whole plan is checked before anything changes.
   */
  applyPlan(layer: number, plan: LayerPlan): void {
    assertLayer(layer, this.config.layers);
    const tokenCount = this.tokenCount(layer);
    if (plan.groupsPerToken !== this.groupsPerToken || plan.groupCount !== tokenCount * this.groupsPerToken) {
      throw new QaqError('plan-mismatch', 'the plan was made for another layer shape', {
        details: { planGroups: plan.groupCount, cacheGroups: tokenCount * this.groupsPerToken, planGroupsPerToken: plan.groupsPerToken },
      });
    }
    const recentGroupStart = this.recentStart(layer) * this.groupsPerToken;
    const kinds = [
      [plan.keys, this.store('keys', layer)],
      [plan.values, this.store('values', layer)],
    ] as const;
    for (const [kindPlan, store] of kinds) {
      for (const [groups, bits, count, direction] of [
        [kindPlan.demoteGroups, kindPlan.demoteBits, kindPlan.demoteCount, -1],
        [kindPlan.promoteGroups, kindPlan.promoteBits, kindPlan.promoteCount, 1],
      ] as const) {
        if (direction === 1 && count > 0 && store.tier === null) {
          throw new QaqError('promotion-unavailable', 'promotion needs the full-precision tier (promotionTier: true)', {
            details: { layer, promotions: count },
          });
        }
        for (let index = 0; index < count; index += 1) {
          const group = groups[index] as number;
          const target = bits[index] as number;
          assertBits('plan bits', target);
          if (!(group < recentGroupStart)) {
            throw new QaqError('invalid-plan', 'plan touches a group outside the quantized range (recent window or past the end)', {
              details: { layer, group, recentGroupStart },
            });
          }
          const current = store.bitsOf(group);
          if (direction === -1 ? target >= current : target <= current) {
            throw new QaqError('invalid-plan', direction === -1 ? 'a demotion must lower the bits' : 'a promotion must raise the bits', {
              details: { layer, group, current, target },
            });
          }
        }
      }
    }
    for (const [kindPlan, store] of kinds) {
      for (let index = 0; index < kindPlan.demoteCount; index += 1) {
        store.requantize(kindPlan.demoteGroups[index] as number, kindPlan.demoteBits[index] as number);
      }
      for (let index = 0; index < kindPlan.promoteCount; index += 1) {
        store.requantize(kindPlan.promoteGroups[index] as number, kindPlan.promoteBits[index] as number);
      }
      // A plan's moves scatter the pools' slots; a plan is rare enough (the policy's cadence) to put them back.
      store.orderPools();
    }
    this.compactLayer(layer);
  }

  /** Re-quantizes one group directly (tests, tools); same rules as a plan entry, recent window excluded. */
  setGroupBits(kind: KvKind, layer: number, group: number, bits: number): void {
    const store = this.store(kind, layer);
    assertBits('bits', bits);
    if (!Number.isInteger(group) || group < 0 || group >= this.recentStart(layer) * this.groupsPerToken) {
      throw new QaqError('invalid-group', 'group out of the quantized range', { details: { layer, group } });
    }
    if (bits > store.bitsOf(group) && store.tier === null) {
      throw new QaqError('promotion-unavailable', 'promotion needs the full-precision tier', { details: { layer, group, bits } });
    }
    store.requantize(group, bits);
    this.compactLayer(layer);
  }

  /** Returns every arena block (a no-op on the JS heap); the cache must not be used afterwards. */
  dispose(): void {
    for (const store of this.keyStores) store.free();
    for (const store of this.valueStores) store.free();
  }

  /** Drops a layer's `count` oldest tokens, freeing their slots. */
  evictOldest(layer: number, count: number): void {
    assertLayer(layer, this.config.layers);
    const tokenCount = this.tokenCount(layer);
    if (!Number.isInteger(count) || count < 0 || count > tokenCount) {
      throw new QaqError('invalid-eviction', 'evict count must be in 0..tokenCount', { details: { layer, count, tokenCount } });
    }
    this.store('keys', layer).evictOldestGroups(count * this.groupsPerToken);
    this.store('values', layer).evictOldestGroups(count * this.groupsPerToken);
    this.compactLayer(layer);
  }

  /** Reads one token's keys and values ([kvHeads, headDim] each) into caller buffers. */
  readToken(layer: number, token: number, keysOut: Float32Array, valuesOut: Float32Array): void {
    const tokenCount = this.tokenCount(layer);
    if (!Number.isInteger(token) || token < 0 || token >= tokenCount) {
      throw new QaqError('invalid-token', 'token out of range', { details: { layer, token, tokenCount } });
    }
    assertLength('keysOut', keysOut, this.tokenLength, true);
    assertLength('valuesOut', valuesOut, this.tokenLength, true);
    const keyStore = this.store('keys', layer);
    const valueStore = this.store('values', layer);
    for (let head = 0; head < this.groupsPerToken; head += 1) {
      const group = token * this.groupsPerToken + head;
      keyStore.decode(group, keysOut, head * this.groupLength);
      valueStore.decode(group, valuesOut, head * this.groupLength);
    }
  }

  /** Reads a whole layer, [tokenCount, kvHeads, headDim] for keys and for values, into caller buffers. */
  readLayer(layer: number, keysOut: Float32Array, valuesOut: Float32Array): void {
    const groupCount = this.tokenCount(layer) * this.groupsPerToken;
    assertLength('keysOut', keysOut, groupCount * this.groupLength, true);
    assertLength('valuesOut', valuesOut, groupCount * this.groupLength, true);
    const keyStore = this.store('keys', layer);
    const valueStore = this.store('values', layer);
    for (let group = 0; group < groupCount; group += 1) {
      keyStore.decode(group, keysOut, group * this.groupLength);
      valueStore.decode(group, valuesOut, group * this.groupLength);
    }
  }

  /** The read-only view the policy decides from. */
  view(layer: number): CacheLayerView {
    assertLayer(layer, this.config.layers);
    return this.views[layer] as CacheLayerView;
  }

  /** Exact byte accounting over all layers. */
  accounting(): CacheAccounting {
    const accounting = emptyAccounting();
    for (let layer = 0; layer < this.config.layers; layer += 1) {
      const recentGroupStart = this.recentStart(layer) * this.groupsPerToken;
      this.store('keys', layer).addAccounting(accounting, recentGroupStart);
      this.store('values', layer).addAccounting(accounting, recentGroupStart);
      accounting.liveElements += 2 * this.tokenCount(layer) * this.tokenLength;
    }
    return finishAccounting(accounting);
  }

  /** Sum of byteLength over every typed array the cache owns (what `accounting().totalBytes` must equal). */
  heldBytes(): number {
    let total = 0;
    for (let layer = 0; layer < this.config.layers; layer += 1) {
      total += this.store('keys', layer).heldBytes() + this.store('values', layer).heldBytes();
    }
    return total;
  }

  private createView(layer: number): CacheLayerView {
    const keyStore = (): GroupStore => this.keyStores[layer] as GroupStore;
    const valueStore = (): GroupStore => this.valueStores[layer] as GroupStore;
    const cache = this;
    return {
      get tokenCount(): number {
        return keyStore().groupCount / cache.groupsPerToken;
      },
      groupsPerToken: this.groupsPerToken,
      get recentTokens(): number {
        return Math.min(cache.config.recentWindow, keyStore().groupCount / cache.groupsPerToken);
      },
      canPromote: this.config.promotionTier,
      keyBits: (group: number): number => keyStore().bitsOf(group),
      valueBits: (group: number): number => valueStore().bitsOf(group),
      keyRange: (group: number): number => keyStore().range(group),
      valueRange: (group: number): number => valueStore().range(group),
      readGroups: (kind: KvKind, bitsOut: Uint8Array, rangesOut: Float64Array): void =>
        (kind === 'keys' ? keyStore() : valueStore()).readState(bitsOut, rangesOut),
    };
  }
}
