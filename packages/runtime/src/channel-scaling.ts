import type { HadamardRotation } from '@qaq/quantization';
import { appendWithSinks } from './append-with-sinks.js';
import type { CenteringCache } from './key-value-centering.js';

/** Tokens a layer must hold before its channel scales are fixed (fewer give noisy channel statistics). */
export const channelScalingCalibrationTokens = 32;

/** The widest a channel's scale may be from the geometric mean of its head's scales (either way). */
const maximumScaleRatio = 32;

/** The rotation each side is stored with (null: not rotated), to read stored tokens back for a re-store. */
export interface StoredRotations {
  readonly keys: HadamardRotation | null;
  readonly values: HadamardRotation | null;
}

/** The widths new tokens are appended at, which a re-store uses too. */
export interface AppendWidths {
  readonly keyBits: number;
  readonly valueBits: number;
}

/** Which sides ChannelScaling scales. */
export interface ChannelScalingSides {
  /** Query-aware key scaling (`kscale=1`). */
  readonly keys: boolean;
  /** Equalizing value scaling (`vscale=1`). */
  readonly values: boolean;
}

/**
 * Per-channel scaling before quantization, per layer and KV head — exact in attention:
 * - keys (`kscale=1`, query-aware): the cache stores s_c·k_c and attention reads the query as q_c / s_c, so every
 *   score q·k is unchanged. A key's quantization error ε costs score error q·ε, and queries do not look at every
 *   channel alike. With the error spread evenly over the channels (the Hadamard rotation does that; a per-token
 *   quantizer's step follows the scaled key's norm), the expected squared score error is proportional to
 *   (Σ_c s_c² E[k_c²]) · (Σ_c E[q_c²] / s_c²), smallest (Cauchy–Schwarz) at s_c² = √(E[q_c²] / E[k_c²]): the error
 *   moves to the channels queries ignore. The policy needs no change: it sizes keys from the stored key and the
 *   stored query's norm, both in the scaled basis.
 * - values (`vscale=1`, equalizing): the cache stores s_c·v_c and the attention output is divided by s_c (it is a
 *   probability-weighted sum of the values). The output error Σ_c ε_c² / s_c² with an even ε is smallest at
 *   s_c² = 1 / √E[v_c²]: a few large channels no longer set every channel's step. The scales are normalized so
 *   that the mean of 1 / s_c² is 1, which keeps the policy's value budget (an error in the stored basis) the
 *   output's error on average.
 * `packages/evaluation/bench/channel-scaling-gain.ts` prints the predicted gain per layer and head of a model.
 *
 * The scales are fixed once per layer, online, when it first holds `channelScalingCalibrationTokens` tokens: from
 * the second moments of every query row seen so far (all query heads of the KV head) and of every key and value but
 * the attention sinks'. Tokens stored before (token-by-token starts) are read back, scaled and stored again, once; a
 * prefill chunk that brings enough tokens is scaled as it comes. An emptied layer (reset) calibrates again; a layer
 * that never holds that many (a sliding window under 33 tokens) stays unscaled. Scaling
 * comes before the rotation and before centering, which waits for the scales (CompactCacheAttention passes
 * `isScaling` to KeyValueCenteringState.center) and takes its means in the scaled basis.
 */
export class ChannelScaling {
  readonly scalesKeys: boolean;
  readonly scalesValues: boolean;
  readonly #kvHeads: number;
  readonly #queryHeads: number;
  readonly #headDim: number;
  /** [layers, kvHeads, headDim] key scales s and 1 / s, value scales and 1 / s (1 until the layer calibrates). */
  readonly #keyScales: Float32Array;
  readonly #keyReciprocals: Float32Array;
  readonly #valueScales: Float32Array;
  readonly #valueReciprocals: Float32Array;
  /** Per layer: 1 once its scales are fixed. */
  readonly #scalesSet: Uint8Array;
  /** [layers, kvHeads, headDim] sums of q_c², k_c² and v_c² until the layer calibrates, with row counts per layer. */
  readonly #querySquares: Float64Array;
  readonly #keySquares: Float64Array;
  readonly #valueSquares: Float64Array;
  readonly #queryRows: Float64Array;
  readonly #tokenRows: Float64Array;
  #scaledQuery = new Float32Array(0);
  #scaledKey = new Float32Array(0);
  #scaledValue = new Float32Array(0);

  constructor(sides: ChannelScalingSides, layers: number, kvHeads: number, queryHeads: number, headDim: number) {
    this.scalesKeys = sides.keys;
    this.scalesValues = sides.values;
    this.#kvHeads = kvHeads;
    this.#queryHeads = queryHeads;
    this.#headDim = headDim;
    const length = layers * kvHeads * headDim;
    const keyLength = sides.keys ? length : 0;
    const valueLength = sides.values ? length : 0;
    this.#keyScales = new Float32Array(keyLength).fill(1);
    this.#keyReciprocals = new Float32Array(keyLength).fill(1);
    this.#valueScales = new Float32Array(valueLength).fill(1);
    this.#valueReciprocals = new Float32Array(valueLength).fill(1);
    this.#scalesSet = new Uint8Array(layers);
    this.#querySquares = new Float64Array(keyLength);
    this.#keySquares = new Float64Array(keyLength);
    this.#valueSquares = new Float64Array(valueLength);
    this.#queryRows = new Float64Array(layers);
    this.#tokenRows = new Float64Array(layers);
  }

  /** Bytes held beside the cache for it (the scales and their reciprocals, fp32), counted with the cache. */
  get bytes(): number {
    return (this.#keyScales.length + this.#keyReciprocals.length + this.#valueScales.length + this.#valueReciprocals.length) * 4;
  }

  /** Bytes of the calibration sums (fp64 second moments), kept for a reset's new calibration: slack, not live. */
  get calibrationBytes(): number {
    return (this.#querySquares.length + this.#keySquares.length + this.#valueSquares.length) * 8 + (this.#queryRows.length + this.#tokenRows.length) * 8;
  }

  /** Whether `layer` scales already. */
  isScaling(layer: number): boolean {
    return this.#scalesSet[layer] === 1;
  }

  /** The scales s of one layer and KV head for one side (a view: [headDim]; empty for a side it does not scale). */
  scalesOf(side: 'keys' | 'values', layer: number, kvHead: number): Float32Array {
    const start = (layer * this.#kvHeads + kvHead) * this.#headDim;
    return (side === 'keys' ? this.#keyScales : this.#valueScales).subarray(start, start + this.#headDim);
  }

  /**
   * The query, key and value to store and attend with for `tokenCount` new tokens of `layer` (query [tokenCount,
   * queryHeads, headDim], key and value [tokenCount, kvHeads, headDim]): scaled once the layer is calibrated, as
   * given before. When this call calibrates the layer, the tokens `cache` holds already (in the stored basis: keys
   * rotated by `rotations.keys`, values by `rotations.values` where not null) are stored again scaled, the first
   * `sinkTokens` at fp16 and the rest at `widths`, before it returns. `sinkTokens` keys and values
   * stay out of the statistics.
   */
  scale(
    layer: number,
    query: Float32Array,
    key: Float32Array,
    value: Float32Array,
    tokenCount: number,
    cache: CenteringCache,
    rotations: StoredRotations,
    widths: AppendWidths,
    sinkTokens: number,
  ): { query: Float32Array; key: Float32Array; value: Float32Array } {
    const cachedBefore = cache.tokenCount(layer);
    if (cachedBefore === 0) this.#forget(layer);
    if (this.#scalesSet[layer] === 0) {
      this.#accumulate(layer, query, key, value, tokenCount, cachedBefore, sinkTokens);
      if (cachedBefore + tokenCount < channelScalingCalibrationTokens) return { query, key, value };
      this.#calibrate(layer);
      if (cachedBefore > 0) this.#storeAgain(layer, cache, cachedBefore, rotations, widths, sinkTokens);
    }
    const vectors = tokenCount * this.#kvHeads;
    return {
      query: this.scalesKeys ? this.#multiply(this.#keyReciprocals, layer, query, tokenCount * this.#queryHeads, this.#queryHeads / this.#kvHeads, this.#grown('query', tokenCount * this.#queryHeads)) : query,
      key: this.scalesKeys ? this.#multiply(this.#keyScales, layer, key, vectors, 1, this.#grown('key', vectors)) : key,
      value: this.scalesValues ? this.#multiply(this.#valueScales, layer, value, vectors, 1, this.#grown('value', vectors)) : value,
    };
  }

  /** Divides an attention output ([rows, queryHeads, headDim], in the model's basis) by the value scales. */
  restoreOutput(layer: number, output: Float32Array, rows: number): void {
    if (!this.scalesValues || this.#scalesSet[layer] === 0) return;
    this.#multiply(this.#valueReciprocals, layer, output, rows * this.#queryHeads, this.#queryHeads / this.#kvHeads, output);
  }

  #forget(layer: number): void {
    const length = this.#kvHeads * this.#headDim;
    const start = layer * length;
    this.#scalesSet[layer] = 0;
    for (const scales of [this.#keyScales, this.#keyReciprocals, this.#valueScales, this.#valueReciprocals]) scales.fill(1, start, start + length);
    for (const sums of [this.#querySquares, this.#keySquares, this.#valueSquares]) sums.fill(0, start, start + length);
    this.#queryRows[layer] = 0;
    this.#tokenRows[layer] = 0;
  }

  #accumulate(layer: number, query: Float32Array, key: Float32Array, value: Float32Array, tokenCount: number, firstPosition: number, sinkTokens: number): void {
    const headDim = this.#headDim;
    const kvHeads = this.#kvHeads;
    const queryHeads = this.#queryHeads;
    const group = queryHeads / kvHeads;
    const base = layer * kvHeads * headDim;
    for (let token = 0; token < tokenCount; token++) {
      if (this.scalesKeys) {
        for (let head = 0; head < queryHeads; head++) {
          addSquares(this.#querySquares, base + Math.floor(head / group) * headDim, query, (token * queryHeads + head) * headDim, headDim);
        }
      }
      // The attention sinks' keys and values are unlike the rest (and stay at fp16): left out.
      if (firstPosition + token < sinkTokens) continue;
      for (let head = 0; head < kvHeads; head++) {
        const source = (token * kvHeads + head) * headDim;
        if (this.scalesKeys) addSquares(this.#keySquares, base + head * headDim, key, source, headDim);
        if (this.scalesValues) addSquares(this.#valueSquares, base + head * headDim, value, source, headDim);
      }
      this.#tokenRows[layer] = (this.#tokenRows[layer] as number) + 1;
    }
    this.#queryRows[layer] = (this.#queryRows[layer] as number) + tokenCount * group;
  }

  #calibrate(layer: number): void {
    const headDim = this.#headDim;
    const half = headDim / 2;
    const queryRows = Math.max(1, this.#queryRows[layer] as number);
    const tokenRows = Math.max(1, this.#tokenRows[layer] as number);
    const logScales = new Float64Array(headDim);
    for (let head = 0; head < this.#kvHeads; head++) {
      const base = (layer * this.#kvHeads + head) * headDim;
      if (this.scalesKeys) {
        const queryFloor = floorOf(this.#querySquares, base, headDim, queryRows);
        const keyFloor = floorOf(this.#keySquares, base, headDim, tokenRows);
        // RoPE turns each channel pair (j, j + D/2) by a position-dependent angle: the pair's energy stays, its
        // split does not, so both channels take the pair's scale (which also commutes with the rotation).
        for (let index = 0; index < half; index++) {
          const partner = base + index + half;
          const querySquare = ((this.#querySquares[base + index] as number) + (this.#querySquares[partner] as number)) / queryRows + 2 * queryFloor;
          const keySquare = ((this.#keySquares[base + index] as number) + (this.#keySquares[partner] as number)) / tokenRows + 2 * keyFloor;
          logScales[index] = 0.25 * Math.log(querySquare / keySquare);
          logScales[index + half] = logScales[index] as number;
        }
        // Key scales: geometric mean 1 (any constant factor cancels against the query's).
        setScales(logScales, meanOf(logScales), this.#keyScales, this.#keyReciprocals, base);
      }
      if (this.scalesValues) {
        const valueFloor = floorOf(this.#valueSquares, base, headDim, tokenRows);
        for (let index = 0; index < headDim; index++) logScales[index] = -0.25 * Math.log((this.#valueSquares[base + index] as number) / tokenRows + valueFloor);
        setScales(logScales, meanOf(logScales), this.#valueScales, this.#valueReciprocals, base);
        // Then the mean of 1 / s² is 1: an even error in the stored basis is on average the output's.
        let meanSquaredReciprocal = 0;
        for (let index = 0; index < headDim; index++) meanSquaredReciprocal += (this.#valueReciprocals[base + index] as number) ** 2 / headDim;
        const factor = Math.sqrt(meanSquaredReciprocal);
        for (let index = 0; index < headDim; index++) {
          this.#valueScales[base + index] = (this.#valueScales[base + index] as number) * factor;
          this.#valueReciprocals[base + index] = 1 / (this.#valueScales[base + index] as number);
        }
      }
    }
    this.#scalesSet[layer] = 1;
  }

  /** Reads the layer's stored tokens back and stores them again scaled (one transient layer). */
  #storeAgain(
    layer: number,
    cache: CenteringCache,
    cachedTokens: number,
    rotations: StoredRotations,
    widths: AppendWidths,
    sinkTokens: number,
  ): void {
    const vectors = cachedTokens * this.#kvHeads;
    const keys = new Float32Array(vectors * this.#headDim);
    const values = new Float32Array(vectors * this.#headDim);
    cache.readLayer(layer, keys, values);
    if (this.scalesKeys) {
      rotations.keys?.inverse(keys, keys, vectors);
      this.#multiply(this.#keyScales, layer, keys, vectors, 1, keys);
      rotations.keys?.forward(keys, keys, vectors);
    }
    if (this.scalesValues) {
      rotations.values?.inverse(values, values, vectors);
      this.#multiply(this.#valueScales, layer, values, vectors, 1, values);
      rotations.values?.forward(values, values, vectors);
    }
    cache.evictOldest(layer, cachedTokens);
    appendWithSinks(cache, layer, keys, values, cachedTokens, sinkTokens, widths.keyBits, widths.valueBits);
  }

  /** A scratch buffer of `vectors` head vectors (grown by doubling, never shrunk). */
  #grown(which: 'query' | 'key' | 'value', vectors: number): Float32Array {
    const length = vectors * this.#headDim;
    let scratch = which === 'query' ? this.#scaledQuery : which === 'key' ? this.#scaledKey : this.#scaledValue;
    if (scratch.length < length) {
      scratch = new Float32Array(Math.max(length, 2 * scratch.length));
      if (which === 'query') this.#scaledQuery = scratch;
      else if (which === 'key') this.#scaledKey = scratch;
      else this.#scaledValue = scratch;
    }
    return scratch.subarray(0, length);
  }

  /** target = source ⊙ factors per head vector; vector v reads the factors of KV head ⌊(v mod heads) / group⌋. */
  #multiply(factors: Float32Array, layer: number, source: Float32Array, vectors: number, group: number, target: Float32Array): Float32Array {
    const headDim = this.#headDim;
    const heads = this.#kvHeads * group;
    const base = layer * this.#kvHeads * headDim;
    for (let vector = 0; vector < vectors; vector++) {
      const factor = base + Math.floor((vector % heads) / group) * headDim;
      const offset = vector * headDim;
      for (let index = 0; index < headDim; index++) target[offset + index] = (source[offset + index] as number) * (factors[factor + index] as number);
    }
    return target;
  }
}

function addSquares(sums: Float64Array, target: number, source: Float32Array, offset: number, length: number): void {
  for (let index = 0; index < length; index++) {
    const element = source[offset + index] as number;
    sums[target + index] = (sums[target + index] as number) + element * element;
  }
}

/** 10⁻⁶ of a head's average second moment: keeps silent channels finite (and all-zero heads at s = 1). */
function floorOf(sums: Float64Array, base: number, headDim: number, rows: number): number {
  let total = 0;
  for (let index = 0; index < headDim; index++) total += (sums[base + index] as number) / rows;
  return (total / headDim) * 1e-6 + Number.MIN_VALUE;
}

function meanOf(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** scales = exp(log − center), within maximumScaleRatio of exp(0) either way, and their reciprocals. */
function setScales(logScales: Float64Array, center: number, scales: Float32Array, reciprocals: Float32Array, base: number): void {
  const limit = Math.log(maximumScaleRatio);
  for (let index = 0; index < logScales.length; index++) {
    const scale = Math.exp(Math.min(limit, Math.max(-limit, (logScales[index] as number) - center)));
    scales[base + index] = scale;
    reciprocals[base + index] = 1 / scale;
  }
}
