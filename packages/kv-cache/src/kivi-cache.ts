import { QaqError } from '@qaq/errors';
import {
  decodeFloat16,
  dequantizeKeyChannelBlock,
  encodeFloat16,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  keyChannelBlockByteLength,
  quantizeAndPackGroup,
  quantizeKeyChannelBlock,
  unpackAndDequantizeGroup,
} from '@qaq/quantization';
import { emptyAccounting, finishAccounting, type CacheAccounting } from './accounting.js';
import type { AttentionSource } from './reference-attention.js';
import { assertLayer, assertLength, assertStorable } from './validation.js';

export interface KiviCacheConfig {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Key bits (1..8): keys per channel over blocks of G tokens. */
  readonly keyBits: number;
  /** Value bits (1..8): values per (token, KV head) group of headDim. */
  readonly valueBits: number;
  /** G: tokens per key block. Default 32. */
  readonly blockTokens?: number;
  /** R: the newest R tokens (at least) stay at fp16. Default 32. */
  readonly residualTokens?: number;
  /** Tokens per layer to allocate for at first; doubles beyond. Default 64. */
  readonly initialCapacityTokens?: number;
}

/**
 * A small KIVI-style baseline (Liu et al. 2024) with the same accounting and attention interface as KvCache:
 * an fp16 residual of the newest tokens; whenever it holds R + G tokens, its oldest G are quantized — keys per
 * channel (one group per (KV head, dim) over G tokens), values per (token, KV head). No outliers. Eviction drops
 * whole quantized blocks from the front (`dropOldestBlocks`), as a sliding-window layer needs: a block's keys share
 * their per-channel parameters, so a block leaves only when all of its G tokens are out of the window.
 */
export class KiviCache implements AttentionSource {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly keyBits: number;
  readonly valueBits: number;
  readonly blockTokens: number;
  readonly residualTokens: number;
  readonly tokenLength: number;
  private readonly blockCodeBytes: number;
  private readonly valueGroupBytes: number;
  private readonly state: {
    blocks: number;
    keyCodes: Uint8Array;
    keyParameters: Uint16Array;
    valueCodes: Uint8Array;
    valueParameters: Uint16Array;
    residualKeys: Uint16Array;
    residualValues: Uint16Array;
    residualCount: number;
  }[] = [];
  private readonly blockScratch: Float32Array;
  private readonly parameterScratch: Float32Array;

  constructor(config: KiviCacheConfig) {
    const integer = (name: string, value: unknown, minimum: number, maximum: number): number => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
        throw new QaqError('invalid-cache-config', `${name} must be an integer in ${minimum}..${maximum}`, { details: { [name]: value } });
      }
      return value;
    };
    this.layers = integer('layers', config.layers, 1, 4096);
    this.kvHeads = integer('kvHeads', config.kvHeads, 1, 4096);
    this.headDim = integer('headDim', config.headDim, 1, 65536);
    for (const [name, bits] of [['keyBits', config.keyBits], ['valueBits', config.valueBits]] as const) {
      if (!Number.isInteger(bits) || bits < 1 || bits > 8) {
        throw new QaqError('invalid-bit-width', `${name} must be 1..8`, { details: { [name]: bits } });
      }
    }
    this.keyBits = config.keyBits;
    this.valueBits = config.valueBits;
    this.blockTokens = integer('blockTokens', config.blockTokens ?? 32, 1, 65536);
    this.residualTokens = integer('residualTokens', config.residualTokens ?? 32, 0, 1 << 20);
    const initialTokens = integer('initialCapacityTokens', config.initialCapacityTokens ?? 64, 1, 1 << 24);
    this.tokenLength = this.kvHeads * this.headDim;
    this.blockCodeBytes = keyChannelBlockByteLength(this.blockTokens, this.tokenLength, this.keyBits);
    this.valueGroupBytes = Math.ceil((this.headDim * this.valueBits) / 8);
    const initialBlocks = Math.max(1, Math.ceil(initialTokens / this.blockTokens));
    const residualCapacity = (this.residualTokens + this.blockTokens) * this.tokenLength;
    for (let layer = 0; layer < this.layers; layer += 1) {
      this.state.push({
        blocks: 0,
        keyCodes: new Uint8Array(initialBlocks * this.blockCodeBytes),
        keyParameters: new Uint16Array(initialBlocks * 2 * this.tokenLength),
        valueCodes: new Uint8Array(initialBlocks * this.blockTokens * this.kvHeads * this.valueGroupBytes),
        valueParameters: new Uint16Array(initialBlocks * this.blockTokens * this.kvHeads * 2),
        residualKeys: new Uint16Array(residualCapacity),
        residualValues: new Uint16Array(residualCapacity),
        residualCount: 0,
      });
    }
    this.blockScratch = new Float32Array(this.blockTokens * this.tokenLength);
    this.parameterScratch = new Float32Array(2 * this.tokenLength);
  }

  tokenCount(layer: number): number {
    const state = this.layerState(layer);
    return state.blocks * this.blockTokens + state.residualCount;
  }

  /** Appends tokens (keys and values [tokenCount, kvHeads, headDim]). */
  append(layer: number, keys: Float32Array, values: Float32Array, tokenCount: number): void {
    const state = this.layerState(layer);
    if (!Number.isInteger(tokenCount) || tokenCount < 1) {
      throw new QaqError('shape-mismatch', 'tokenCount must be a positive integer', { details: { tokenCount } });
    }
    assertLength('keys', keys, tokenCount * this.tokenLength);
    assertLength('values', values, tokenCount * this.tokenLength);
    assertStorable('keys', keys, keys.length);
    assertStorable('values', values, values.length);
    const flushAt = this.residualTokens + this.blockTokens;
    for (let token = 0; token < tokenCount; token += 1) {
      const source = token * this.tokenLength;
      const target = state.residualCount * this.tokenLength;
      encodeFloat16(keys.subarray(source, source + this.tokenLength), state.residualKeys.subarray(target, target + this.tokenLength));
      encodeFloat16(values.subarray(source, source + this.tokenLength), state.residualValues.subarray(target, target + this.tokenLength));
      state.residualCount += 1;
      if (state.residualCount === flushAt) this.flushBlock(layer);
    }
  }

  /**
   * Drops the oldest `blocks` quantized blocks of `layer` (their G tokens each); the fp16 residual is never dropped.
   * Token indices shift down by blocks·G: readLayer returns the remaining tokens from index 0.
   */
  dropOldestBlocks(layer: number, blocks: number): void {
    const state = this.layerState(layer);
    if (!Number.isInteger(blocks) || blocks < 0 || blocks > state.blocks) {
      throw new QaqError('invalid-argument', `blocks must be an integer in 0..${state.blocks} (the quantized blocks held)`, {
        details: { layer, blocks, held: state.blocks },
      });
    }
    if (blocks === 0) return;
    // Capacity stays as it is: the freed tail is slack that the next blocks reuse.
    const shift = (array: Uint8Array | Uint16Array, perBlock: number): void => {
      array.copyWithin(0, blocks * perBlock, state.blocks * perBlock);
    };
    shift(state.keyCodes, this.blockCodeBytes);
    shift(state.keyParameters, 2 * this.tokenLength);
    shift(state.valueCodes, this.blockTokens * this.kvHeads * this.valueGroupBytes);
    shift(state.valueParameters, this.blockTokens * this.kvHeads * 2);
    state.blocks -= blocks;
  }

  /** Quantized blocks held for `layer` (each G tokens, the oldest first). */
  blockCount(layer: number): number {
    return this.layerState(layer).blocks;
  }

  readLayer(layer: number, keysOut: Float32Array, valuesOut: Float32Array): void {
    const state = this.layerState(layer);
    const total = this.tokenCount(layer) * this.tokenLength;
    assertLength('keysOut', keysOut, total, true);
    assertLength('valuesOut', valuesOut, total, true);
    const blockLength = this.blockTokens * this.tokenLength;
    for (let block = 0; block < state.blocks; block += 1) {
      for (let index = 0; index < 2 * this.tokenLength; index += 1) {
        this.parameterScratch[index] = float16BitsToFloat32(state.keyParameters[block * 2 * this.tokenLength + index] as number);
      }
      dequantizeKeyChannelBlock(state.keyCodes, this.parameterScratch, this.blockTokens, this.tokenLength, this.keyBits, keysOut, {
        packedOffset: block * this.blockCodeBytes,
        targetOffset: block * blockLength,
      });
    }
    const valueGroups = state.blocks * this.blockTokens * this.kvHeads;
    for (let group = 0; group < valueGroups; group += 1) {
      unpackAndDequantizeGroup(
        state.valueCodes,
        group * this.valueGroupBytes,
        this.headDim,
        this.valueBits,
        float16BitsToFloat32(state.valueParameters[2 * group] as number),
        float16BitsToFloat32(state.valueParameters[2 * group + 1] as number),
        valuesOut,
        group * this.headDim,
      );
    }
    const residual = state.residualCount * this.tokenLength;
    const offset = state.blocks * blockLength;
    decodeFloat16(state.residualKeys, keysOut.subarray(offset, offset + residual), residual);
    decodeFloat16(state.residualValues, valuesOut.subarray(offset, offset + residual), residual);
  }

  accounting(): CacheAccounting {
    const accounting = emptyAccounting();
    for (let layer = 0; layer < this.layers; layer += 1) {
      const state = this.layerState(layer);
      const valueGroups = state.blocks * this.blockTokens * this.kvHeads;
      accounting.codeBytes += state.blocks * this.blockCodeBytes + valueGroups * this.valueGroupBytes;
      accounting.minimumBytes += 2 * (state.blocks * this.tokenLength + valueGroups);
      accounting.scaleBytes += 2 * (state.blocks * this.tokenLength + valueGroups);
      accounting.recentWindowBytes += 2 * 2 * state.residualCount * this.tokenLength;
      const held =
        state.keyCodes.byteLength +
        state.keyParameters.byteLength +
        state.valueCodes.byteLength +
        state.valueParameters.byteLength +
        state.residualKeys.byteLength +
        state.residualValues.byteLength;
      const liveBytes =
        state.blocks * this.blockCodeBytes +
        valueGroups * this.valueGroupBytes +
        4 * (state.blocks * this.tokenLength + valueGroups) +
        2 * 2 * state.residualCount * this.tokenLength;
      accounting.slackBytes += held - liveBytes;
      accounting.liveElements += 2 * this.tokenCount(layer) * this.tokenLength;
    }
    accounting.scratchBytes += this.blockScratch.byteLength + this.parameterScratch.byteLength;
    return finishAccounting(accounting);
  }

  heldBytes(): number {
    let total = this.blockScratch.byteLength + this.parameterScratch.byteLength;
    for (const state of this.state) {
      total +=
        state.keyCodes.byteLength +
        state.keyParameters.byteLength +
        state.valueCodes.byteLength +
        state.valueParameters.byteLength +
        state.residualKeys.byteLength +
        state.residualValues.byteLength;
    }
    return total;
  }

  private flushBlock(layer: number): void {
    const state = this.layerState(layer);
    const block = state.blocks;
    this.reserveBlocks(layer, block + 1);
    const blockLength = this.blockTokens * this.tokenLength;
    decodeFloat16(state.residualKeys, this.blockScratch, blockLength);
    // Keys: one group per channel over the block's G tokens.
    quantizeKeyChannelBlock(this.blockScratch, this.blockTokens, this.tokenLength, this.keyBits, state.keyCodes, this.parameterScratch, {
      packedOffset: block * this.blockCodeBytes,
    });
    for (let index = 0; index < 2 * this.tokenLength; index += 1) {
      state.keyParameters[block * 2 * this.tokenLength + index] = float32ToFloat16Bits(this.parameterScratch[index] as number);
    }
    decodeFloat16(state.residualValues, this.blockScratch, blockLength);
    const firstGroup = block * this.blockTokens * this.kvHeads;
    for (let index = 0; index < this.blockTokens * this.kvHeads; index += 1) {
      const group = firstGroup + index;
      quantizeAndPackGroup(this.blockScratch, index * this.headDim, this.headDim, 1, this.valueBits, state.valueCodes, group * this.valueGroupBytes, this.parameterScratch, 0);
      state.valueParameters[2 * group] = float32ToFloat16Bits(this.parameterScratch[0] as number);
      state.valueParameters[2 * group + 1] = float32ToFloat16Bits(this.parameterScratch[1] as number);
    }
    state.residualKeys.copyWithin(0, blockLength, state.residualCount * this.tokenLength);
    state.residualValues.copyWithin(0, blockLength, state.residualCount * this.tokenLength);
    state.residualCount -= this.blockTokens;
    state.blocks = block + 1;
  }

  private reserveBlocks(layer: number, blocks: number): void {
    const state = this.layerState(layer);
    let capacity = state.keyCodes.length / this.blockCodeBytes;
    if (blocks <= capacity) return;
    while (capacity < blocks) capacity *= 2;
    const grow = <T extends Uint8Array | Uint16Array>(array: T, create: (length: number) => T, perBlock: number): T => {
      const next = create(capacity * perBlock);
      next.set(array);
      return next;
    };
    state.keyCodes = grow(state.keyCodes, (length) => new Uint8Array(length), this.blockCodeBytes);
    state.keyParameters = grow(state.keyParameters, (length) => new Uint16Array(length), 2 * this.tokenLength);
    state.valueCodes = grow(state.valueCodes, (length) => new Uint8Array(length), this.blockTokens * this.kvHeads * this.valueGroupBytes);
    state.valueParameters = grow(state.valueParameters, (length) => new Uint16Array(length), this.blockTokens * this.kvHeads * 2);
  }

  private layerState(layer: number): (typeof this.state)[number] {
    assertLayer(layer, this.layers);
    return this.state[layer] as (typeof this.state)[number];
  }
}
