import { probabilityRowCount, type GroupStore, type KvCache } from '@qaq/kv-cache';
import { float16BitsToFloat32 } from '@qaq/quantization';
import { firstVisibleToken, negligibleProbabilityFor, queryBlockSize, validateAttention, type KernelAttentionOptions } from './validate-attention.js';

/**
 * The readable reference of the kernel, and its fallback where WebAssembly SIMD is missing: the same factored
 * algorithm over the packed pools (no dequantized copy of the cache), in float64. Per KV head and query row r:
 *   score_t = c·( s_t·(q_r·codes_t) + (m_t + s_t/2)·Σq_r + Σ_outliers q_r[p]·(v_p − k̂_p) ),
 *   out_r = Σ_t p_rt·s_t·codes_t + Σ_t p_rt·(m_t + s_t/2) + Σ_outliers p_rt·(v_p − v̂_p) at p.
 */
export class JsAttention {
  private rowFirsts = new Int32Array(0);
  private rowLasts = new Int32Array(0);
  private rowOffsets = new Int32Array(0);
  private slice = new Float64Array(0);
  private scores = new Float64Array(0);
  private accumulators = new Float64Array(0);
  private biases = new Float64Array(0);
  private querySums = new Float64Array(0);
  // Parameters of the slice last read by readSlice.
  private sliceBits = 0;
  private sliceMinimum = 0;
  private sliceStep = 0;
  private sliceSlot = 0;

  /** Attention for the last `queryCount` positions of `layer` (causal, optional sliding window). */
  attendMulti(
    cache: KvCache,
    layer: number,
    queries: Float32Array,
    queryCount: number,
    options: KernelAttentionOptions,
    output: Float32Array,
    maxProbabilities: Float32Array | null,
  ): void {
    const tokenCount = validateAttention(cache, layer, queries, queryCount, options, output, maxProbabilities);
    const probabilityRows = probabilityRowCount(queryCount, options);
    if (maxProbabilities !== null) maxProbabilities.fill(0, 0, probabilityRows * cache.kvHeads * tokenCount);
    const headsPerKv = options.queryHeads / cache.kvHeads;
    const blockQueries = queryBlockSize(headsPerKv, tokenCount, cache.headDim);
    const negligibleProbability = negligibleProbabilityFor(queryCount, headsPerKv, options);
    for (let firstQuery = 0; firstQuery < queryCount; firstQuery += blockQueries) {
      const blockCount = Math.min(blockQueries, queryCount - firstQuery);
      this.attendBlock(cache, layer, queries, tokenCount - queryCount + firstQuery, firstQuery, blockCount, options, output, maxProbabilities, queryCount - probabilityRows, negligibleProbability);
    }
  }

  /**
   * Query positions firstPosition … firstPosition + blockCount − 1, which are queries firstQuery … of the call; call
   * rows below `skippedRows` keep no probabilities; the value pass skips tokens below `negligibleProbability` (> 0).
   */
  private attendBlock(
    cache: KvCache,
    layer: number,
    queries: Float32Array,
    firstPosition: number,
    firstQuery: number,
    blockCount: number,
    options: KernelAttentionOptions,
    output: Float32Array,
    maxProbabilities: Float32Array | null,
    skippedRows: number,
    negligibleProbability: number,
  ): void {
    const tokenCount = cache.tokenCount(layer);
    const { kvHeads, headDim, groupsPerToken } = cache;
    const { queryHeads, scoreScale } = options;
    const headsPerKv = queryHeads / kvHeads;
    const rows = blockCount * headsPerKv;
    const end = firstPosition + blockCount;
    this.reserve(rows, tokenCount, headDim);
    const { slice, scores, accumulators, biases, querySums } = this;
    const keyStore = cache.store('keys', layer);
    const valueStore = cache.store('values', layer);
    const lowest = firstVisibleToken(firstPosition, options.slidingWindow);
    const skipsNegligible = negligibleProbability > 0;
    const { rowFirsts, rowLasts, rowOffsets } = this;
    for (let row = 0; row < rows; row += 1) {
      const position = firstPosition + Math.floor(row / headsPerKv);
      rowLasts[row] = position;
      rowFirsts[row] = firstVisibleToken(position, options.slidingWindow);
    }
    for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
      const headGroup = groupsPerToken === 1 ? 0 : kvHead;
      const elementOffset = groupsPerToken === 1 ? kvHead * headDim : 0;
      for (let row = 0; row < rows; row += 1) {
        rowOffsets[row] = ((firstQuery + Math.floor(row / headsPerKv)) * queryHeads + kvHead * headsPerKv + (row % headsPerKv)) * headDim;
      }
      for (let row = 0; row < rows; row += 1) {
        const base = rowOffsets[row] as number;
        let sum = 0;
        for (let element = 0; element < headDim; element += 1) sum += queries[base + element] as number;
        querySums[row] = sum;
      }
      for (let token = lowest; token < end; token += 1) {
        this.readSlice(keyStore, token * groupsPerToken + headGroup, elementOffset, headDim);
        const { sliceBits: bits, sliceMinimum: minimum, sliceStep: step } = this;
        for (let row = 0; row < rows; row += 1) {
          if (token > (rowLasts[row] as number) || token < (rowFirsts[row] as number)) continue;
          const base = rowOffsets[row] as number;
          let product = 0;
          for (let element = 0; element < headDim; element += 1) product += (queries[base + element] as number) * (slice[element] as number);
          let score = product;
          if (bits !== 16) {
            score = step * product + (minimum + 0.5 * step) * (querySums[row] as number);
            score += this.outlierCorrection(keyStore, elementOffset, headDim, queries, base, 0);
          }
          scores[row * tokenCount + token] = score * scoreScale;
        }
      }
      for (let row = 0; row < rows; row += 1) {
        const query = Math.floor(row / headsPerKv);
        const position = firstPosition + query;
        const first = firstVisibleToken(position, options.slidingWindow);
        const base = row * tokenCount;
        let maximum = Number.NEGATIVE_INFINITY;
        for (let token = first; token <= position; token += 1) maximum = Math.max(maximum, scores[base + token] as number);
        let sum = 0;
        for (let token = first; token <= position; token += 1) {
          const weight = Math.exp((scores[base + token] as number) - maximum);
          scores[base + token] = weight;
          sum += weight;
        }
        // Only the last rows of the call are kept (AttentionOptions.probabilityRows).
        const probabilities = firstQuery + query >= skippedRows ? maxProbabilities : null;
        const probabilityRow = ((firstQuery + query - skippedRows) * kvHeads + kvHead) * tokenCount;
        for (let token = first; token <= position; token += 1) {
          const probability = (scores[base + token] as number) / sum;
          scores[base + token] = probability;
          if (probabilities !== null && probability > (probabilities[probabilityRow + token] as number)) {
            probabilities[probabilityRow + token] = probability;
          }
        }
      }
      accumulators.fill(0, 0, rows * headDim);
      biases.fill(0, 0, rows);
      for (let token = lowest; token < end; token += 1) {
        if (skipsNegligible && this.isNegligible(token, rows, tokenCount, negligibleProbability)) continue;
        this.readSlice(valueStore, token * groupsPerToken + headGroup, elementOffset, headDim);
        const { sliceBits: bits, sliceMinimum: minimum, sliceStep: step } = this;
        for (let row = 0; row < rows; row += 1) {
          if (token > (rowLasts[row] as number) || token < (rowFirsts[row] as number)) continue;
          const probability = scores[row * tokenCount + token] as number;
          const weight = bits === 16 ? probability : probability * step;
          const base = row * headDim;
          for (let element = 0; element < headDim; element += 1) {
            accumulators[base + element] = (accumulators[base + element] as number) + weight * (slice[element] as number);
          }
          if (bits !== 16) {
            biases[row] = (biases[row] as number) + probability * (minimum + 0.5 * step);
            this.outlierCorrection(valueStore, elementOffset, headDim, accumulators, base, probability);
          }
        }
      }
      for (let row = 0; row < rows; row += 1) {
        const target = rowOffsets[row] as number;
        for (let element = 0; element < headDim; element += 1) {
          output[target + element] = (accumulators[row * headDim + element] as number) + (biases[row] as number);
        }
      }
    }
  }

  /** Whether every row that sees `token` gives it a probability below τ (the value pass then skips it). */
  private isNegligible(token: number, rows: number, tokenCount: number, negligibleProbability: number): boolean {
    for (let row = 0; row < rows; row += 1) {
      if (token > (this.rowLasts[row] as number) || token < (this.rowFirsts[row] as number)) continue;
      if ((this.scores[row * tokenCount + token] as number) >= negligibleProbability) return false;
    }
    return true;
  }

  /**
   * Outliers of the slice last read that fall in [elementOffset, elementOffset + headDim): with weight 0 returns
   * Σ vector[base + e]·(exact − reconstructed) (the score correction); otherwise adds weight·(exact − reconstructed)
   * to vector[base + e] and returns 0.
   */
  private outlierCorrection(store: GroupStore, elementOffset: number, headDim: number, vector: Float32Array | Float64Array, base: number, weight: number): number {
    const count = store.outlierCount;
    if (count === 0) return 0;
    const pool = store.pool(this.sliceBits);
    const positions = pool.outlierPositions;
    const values = pool.outlierValues;
    const first = this.sliceSlot * count;
    let correction = 0;
    for (let outlier = first; outlier < first + count; outlier += 1) {
      const element = (positions[outlier] as number) - elementOffset;
      if (element < 0 || element >= headDim) continue;
      const exact = float16BitsToFloat32(values[outlier] as number);
      const reconstructed = this.sliceMinimum + ((this.slice[element] as number) + 0.5) * this.sliceStep;
      if (weight === 0) correction += (vector[base + element] as number) * (exact - reconstructed);
      else vector[base + element] = (vector[base + element] as number) + weight * (exact - reconstructed);
    }
    return correction;
  }

  /** Codes (or fp16 values) of one group's head slice into `slice`, and the group's parameters. */
  private readSlice(store: GroupStore, group: number, elementOffset: number, headDim: number): void {
    const bits = store.bitsOf(group);
    const slot = store.slots[group] as number;
    const pool = store.pool(bits);
    const codeOffset = slot * pool.layout.codeBytes;
    const slice = this.slice;
    this.sliceBits = bits;
    this.sliceSlot = slot;
    if (bits === 16) {
      const codes = pool.codes;
      for (let element = 0; element < headDim; element += 1) {
        const byte = codeOffset + 2 * (elementOffset + element);
        slice[element] = float16BitsToFloat32((codes[byte] as number) | ((codes[byte + 1] as number) << 8));
      }
      return;
    }
    // The LSB-first bit stream of @qaq/quantization's packing, read from the head's first bit (any width, any offset).
    const codes = pool.codes;
    const mask = (1 << bits) - 1;
    const startBit = elementOffset * bits;
    let input = codeOffset + (startBit >>> 3);
    let accumulator = (codes[input++] as number) >>> (startBit & 7);
    let available = 8 - (startBit & 7);
    for (let element = 0; element < headDim; element += 1) {
      while (available < bits) {
        accumulator |= (codes[input++] as number) << available;
        available += 8;
      }
      slice[element] = accumulator & mask;
      accumulator >>>= bits;
      available -= bits;
    }
    this.sliceMinimum = float16BitsToFloat32(pool.parameters[slot * 2] as number);
    this.sliceStep = float16BitsToFloat32(pool.parameters[slot * 2 + 1] as number);
  }

  private reserve(rows: number, tokenCount: number, headDim: number): void {
    if (this.rowFirsts.length < rows) {
      this.rowFirsts = new Int32Array(rows);
      this.rowLasts = new Int32Array(rows);
      this.rowOffsets = new Int32Array(rows);
    }
    if (this.slice.length < headDim) this.slice = new Float64Array(headDim);
    if (this.scores.length < rows * tokenCount) this.scores = new Float64Array(Math.max(rows * tokenCount, 2 * this.scores.length));
    if (this.accumulators.length < rows * headDim) this.accumulators = new Float64Array(rows * headDim);
    if (this.biases.length < rows) {
      this.biases = new Float64Array(rows);
      this.querySums = new Float64Array(rows);
    }
  }
}
