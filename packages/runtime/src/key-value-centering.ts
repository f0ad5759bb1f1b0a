import { appendWithSinks, type AppendTarget } from './append-with-sinks.js';

/** Which side the compact cache stores centered per layer and KV head (see KeyValueCentering). */
export type KeyValueCentering = 'none' | 'keys' | 'values' | 'both';

export const keyValueCenterings: readonly KeyValueCentering[] = Object.freeze(['none', 'keys', 'values', 'both']);

/** What centering needs of the cache: its stored tokens, and a way to store them again. */
export interface CenteringCache extends AppendTarget {
  tokenCount(layer: number): number;
  readLayer(layer: number, keysOut: Float32Array, valuesOut: Float32Array): void;
  evictOldest(layer: number, count: number): void;
}

/** Tokens a layer must hold before its means are taken (fewer make a noisy mean). */
export const centeringMeanTokens = 16;

/**
 * Per layer and KV head, a mean vector μ subtracted from every key and/or value before it is quantized — exact, at
 * no cost inside attention:
 * - keys: q·(k − μ) = q·k − q·μ shifts every score of a query by the same amount, so the softmax (the attention
 *   output and the max-probability statistics) is unchanged and μ never has to be added back;
 * - values: Σ p_t·(v_t − μ) + μ = Σ p_t·v_t since the probabilities sum to 1, so μ is added to each output once.
 * Why: keys carry a few large channels that are nearly constant over tokens (low-frequency RoPE pairs), and a
 * per-token quantizer spends its range on them; centered, the range is the tokens' variation. Rotated caches
 * center after the rotation (in the stored basis).
 *
 * One μ per layer for every token it holds is what keeps the scores' shift constant, so μ is fixed once per
 * layer, when the layer first holds `centeringMeanTokens` tokens: the mean of those tokens but the oldest (the
 * attention sink, whose key is unlike the rest). The few tokens stored before that (token-by-token starts) are
 * read back, centered and stored again, once; a prefill chunk that brings enough tokens is centered as it comes.
 * An emptied layer (reset) takes new means.
 */
export class KeyValueCenteringState {
  readonly #centerKeys: boolean;
  readonly #centerValues: boolean;
  readonly #kvHeads: number;
  readonly #headDim: number;
  /** [layers, kvHeads, headDim] means of the stored keys / values (zero until set). */
  readonly #keyMeans: Float32Array;
  readonly #valueMeans: Float32Array;
  /** Per layer: 1 once its means are set. */
  readonly #meansSet: Uint8Array;
  #centeredKey = new Float32Array(0);
  #centeredValue = new Float32Array(0);

  constructor(centering: KeyValueCentering, layers: number, kvHeads: number, headDim: number) {
    this.#centerKeys = centering === 'keys' || centering === 'both';
    this.#centerValues = centering === 'values' || centering === 'both';
    this.#kvHeads = kvHeads;
    this.#headDim = headDim;
    this.#keyMeans = new Float32Array(this.#centerKeys ? layers * kvHeads * headDim : 0);
    this.#valueMeans = new Float32Array(this.#centerValues ? layers * kvHeads * headDim : 0);
    this.#meansSet = new Uint8Array(layers);
  }

  get active(): boolean {
    return this.#centerKeys || this.#centerValues;
  }

  /** Bytes of the means (fp32, the centered sides): held beside the cache, counted with it. */
  get bytes(): number {
    return (this.#keyMeans.length + this.#valueMeans.length) * 4;
  }

  /** Whether `layer` is centering already (its means are set). */
  isCentering(layer: number): boolean {
    return this.#meansSet[layer] === 1;
  }

  /**
   * The keys and values to store for `tokenCount` new tokens ([tokenCount, kvHeads, headDim] each), centered as
   * configured. When this call sets the layer's means, the tokens `cache` already holds are re-stored centered
   * (the first `sinkTokens` of them at fp16, the attention sinks; the rest at `keyBits` / `valueBits`) before it
   * returns. `basisFixed` false holds the means back (the tokens pass as they are): a transform before this one
   * (ChannelScaling) has not fixed the basis the layer is stored in yet, and means taken now would not match it.
   */
  center(
    layer: number,
    key: Float32Array,
    value: Float32Array,
    tokenCount: number,
    cache: CenteringCache,
    keyBits: number,
    valueBits: number,
    sinkTokens = 0,
    basisFixed = true,
  ): { key: Float32Array; value: Float32Array } {
    if (!this.active) return { key, value };
    const cachedBefore = cache.tokenCount(layer);
    if (cachedBefore === 0) this.#meansSet[layer] = 0;
    if (this.#meansSet[layer] === 0) {
      const total = cachedBefore + tokenCount;
      if (total < centeringMeanTokens || !basisFixed) return { key, value };
      const tokenLength = this.#kvHeads * this.#headDim;
      // The layer's tokens so far, as stored, then the new ones: one transient layer of this size.
      const allKeys = new Float32Array(total * tokenLength);
      const allValues = new Float32Array(total * tokenLength);
      if (cachedBefore > 0) cache.readLayer(layer, allKeys.subarray(0, cachedBefore * tokenLength), allValues.subarray(0, cachedBefore * tokenLength));
      allKeys.set(key, cachedBefore * tokenLength);
      allValues.set(value, cachedBefore * tokenLength);
      if (this.#centerKeys) this.#setMeans(this.#keyMeans, layer, allKeys, total);
      if (this.#centerValues) this.#setMeans(this.#valueMeans, layer, allValues, total);
      this.#meansSet[layer] = 1;
      if (cachedBefore > 0) {
        const before = cachedBefore * tokenLength;
        const stored = this.#centered(layer, allKeys.subarray(0, before), allValues.subarray(0, before), cachedBefore);
        cache.evictOldest(layer, cachedBefore);
        appendWithSinks(cache, layer, stored.key, stored.value, cachedBefore, sinkTokens, keyBits, valueBits);
      }
    }
    return this.#centered(layer, key, value, tokenCount);
  }

  /** Adds the value means back to an attention output ([rows, queryHeads, headDim], query head h reads KV head h / G). */
  restoreOutput(layer: number, output: Float32Array, rows: number, queryHeads: number): void {
    if (!this.#centerValues || this.#meansSet[layer] === 0) return;
    const headDim = this.#headDim;
    const group = queryHeads / this.#kvHeads;
    const base = layer * this.#kvHeads * headDim;
    for (let row = 0; row < rows; row++) {
      for (let head = 0; head < queryHeads; head++) {
        const mean = base + Math.floor(head / group) * headDim;
        const target = (row * queryHeads + head) * headDim;
        for (let index = 0; index < headDim; index++) output[target + index] = (output[target + index] as number) + (this.#valueMeans[mean + index] as number);
      }
    }
  }

  #centered(layer: number, key: Float32Array, value: Float32Array, tokenCount: number): { key: Float32Array; value: Float32Array } {
    const length = tokenCount * this.#kvHeads * this.#headDim;
    if (this.#centerKeys) {
      if (this.#centeredKey.length < length) this.#centeredKey = new Float32Array(Math.max(length, 2 * this.#centeredKey.length));
      key = this.#subtract(this.#keyMeans, layer, key, tokenCount, this.#centeredKey);
    }
    if (this.#centerValues) {
      if (this.#centeredValue.length < length) this.#centeredValue = new Float32Array(Math.max(length, 2 * this.#centeredValue.length));
      value = this.#subtract(this.#valueMeans, layer, value, tokenCount, this.#centeredValue);
    }
    return { key, value };
  }

  /** Means over every token but the first ([tokenCount ≥ 2, kvHeads, headDim] source). */
  #setMeans(means: Float32Array, layer: number, source: Float32Array, tokenCount: number): void {
    const headDim = this.#headDim;
    const kvHeads = this.#kvHeads;
    const base = layer * kvHeads * headDim;
    const scale = 1 / (tokenCount - 1);
    for (let head = 0; head < kvHeads; head++) {
      for (let index = 0; index < headDim; index++) {
        let sum = 0;
        for (let token = 1; token < tokenCount; token++) sum += source[(token * kvHeads + head) * headDim + index] as number;
        means[base + head * headDim + index] = sum * scale;
      }
    }
  }

  #subtract(means: Float32Array, layer: number, source: Float32Array, tokenCount: number, scratch: Float32Array): Float32Array {
    const headDim = this.#headDim;
    const kvHeads = this.#kvHeads;
    const base = layer * kvHeads * headDim;
    const target = scratch.subarray(0, tokenCount * kvHeads * headDim);
    for (let token = 0; token < tokenCount; token++) {
      for (let head = 0; head < kvHeads; head++) {
        const offset = (token * kvHeads + head) * headDim;
        const mean = base + head * headDim;
        for (let index = 0; index < headDim; index++) target[offset + index] = (source[offset + index] as number) - (means[mean + index] as number);
      }
    }
    return target;
  }
}
