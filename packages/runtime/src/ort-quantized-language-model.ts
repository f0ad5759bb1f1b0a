import type { Backend, BackendSession, BackendTensor, CpuTensor } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import type { AbortSignalLike, CausalLanguageModel } from '@qaq/generation';
import { gqaCacheLayout, gqaLargestCode, type DecoderConfig, type GqaCacheBits } from '@qaq/onnx-graph';
import type { KeyValueMemory } from './key-value-store.js';

/** Per-layer channel scales of a quantized GroupQueryAttention cache: kvHeads · headDim floats each, x ≈ code · scale. */
export interface KvChannelScales {
  readonly keys: readonly Float32Array[];
  readonly values: readonly Float32Array[];
}

export interface OrtQuantizedLanguageModelOptions {
  readonly backend: Backend;
  /** A session of `buildQuantizedCacheDecoder(…, { bits })` (lastLogitsOnly). */
  readonly session: BackendSession;
  /**
   * A session of `buildQuantizedCacheDecoder(…, { calibration: true })`: used on the first chunk of every sequence to
   * set the scales, unless `scales` fixes them. Not needed for bits 0.
   */
  readonly calibrationSession?: BackendSession;
  readonly config: DecoderConfig;
  readonly bits: GqaCacheBits;
  /** Fixed scales instead of calibrating on each sequence's first chunk. */
  readonly scales?: KvChannelScales;
  /**
   * Calibration: scale = margin · absmax / largest code. Default `defaultScaleMargin(bits)`: 2 for int8 (later tokens
   * exceed the first chunk's range; 255 levels leave room), 1 for int4 (15 levels: resolution matters more than
   * clipping). Measured with bench/ort-calibration.ts, see the README.
   */
  readonly scaleMargin?: number;
  /** Longer inputs are fed this many tokens at a time (default 128). */
  readonly prefillChunkSize?: number;
  /** Scales are calibrated on the sequence's first this-many tokens (default 128); see `forward`. */
  readonly calibrationTokens?: number;
  /** Initial cache capacity in tokens (default 256); it grows in 256-token steps when full, up to the context length. */
  readonly initialCapacity?: number;
}

/** The calibration margin that measured best per bit width (SmolLM2, bench/ort-calibration.ts): int8 2, int4 1. */
export function defaultScaleMargin(bits: GqaCacheBits): number {
  return bits === 8 ? 2 : 1;
}

interface LayerCache {
  keys: Int8Array | Uint8Array | Float32Array;
  values: Int8Array | Uint8Array | Float32Array;
  keyTensor: BackendTensor;
  valueTensor: BackendTensor;
}

/**
 * ONNX Runtime's built-in quantized KV cache (the `ort-int4` / `ort-int8` anchor): the decoder's attention is
 * com.microsoft GroupQueryAttention with a PER_CHANNEL int8 or packed-int4 cache, symmetric, one scale per (KV head,
 * channel) fixed for the sequence. The runtime owns the cache buffers ([1, kvHeads, capacity, D or D/2] per layer and
 * kind) and feeds each as both past input and preallocated present output, so onnxruntime writes the new tokens in
 * place (shared-buffer mode). Scales come from a calibration pass (fp32 cache) over the sequence's first
 * `calibrationTokens` tokens (128): per layer and channel the largest |key| (after RoPE) and
 * |value|, times `scaleMargin`; later tokens beyond that range are clamped by onnxruntime. A sequence that
 * starts shorter (one token, say) is recalibrated each time its length doubles, up to 128, and its tokens re-encoded.
 * Only tokens already given to `forward` are used, so evaluations stay honest.
 */
export class OrtQuantizedLanguageModel implements CausalLanguageModel {
  readonly vocabularySize: number;
  readonly contextLength: number;
  readonly config: DecoderConfig;
  readonly bits: GqaCacheBits;
  readonly prefillChunkSize: number;
  readonly scaleMargin: number;
  readonly calibrationTokens: number;
  readonly #backend: Backend;
  readonly #session: BackendSession;
  readonly #calibrationSession: BackendSession | undefined;
  readonly #fixedScales: boolean;
  readonly #keyScales: Float32Array[];
  readonly #valueScales: Float32Array[];
  readonly #scaleTensors: Record<string, BackendTensor> = {};
  readonly #logits: Float32Array;
  readonly #logitsTensor: CpuTensor<'float32'>;
  readonly #layers: LayerCache[];
  readonly #lastAxis: number;
  readonly #elementType: 'int8' | 'uint8' | 'float32';
  #capacity: number;
  #tokenCount = 0;
  /** Tokens the current scales were calibrated on (0: none yet). */
  #calibratedOn = 0;
  /** The sequence's first calibrationTokens tokens, to re-encode them after a recalibration. */
  readonly #history: Int32Array;
  /** Step inputs, allocated once for the largest chunk (a prefill chunk or a calibration pass). */
  readonly #inputIds: BigInt64Array;
  readonly #positionIds: BigInt64Array;
  readonly #sequenceLength = new Int32Array(1);
  readonly #totalLength = new Int32Array(1);

  constructor(options: OrtQuantizedLanguageModelOptions) {
    const { config, bits } = options;
    if (bits !== 0 && options.scales === undefined && options.calibrationSession === undefined) {
      throw new QaqError('invalid-cache-config', 'a quantized cache needs fixed scales or a calibration session', { details: { bits } });
    }
    const chunk = options.prefillChunkSize ?? 128;
    const margin = options.scaleMargin ?? defaultScaleMargin(bits);
    const calibrationTokens = options.calibrationTokens ?? 128;
    if (!Number.isInteger(calibrationTokens) || calibrationTokens < 1) {
      throw new QaqError('invalid-cache-config', 'calibrationTokens must be a positive integer', { details: { calibrationTokens } });
    }
    if (!Number.isInteger(chunk) || chunk < 1) {
      throw new QaqError('invalid-cache-config', 'prefillChunkSize must be a positive integer', { details: { prefillChunkSize: chunk } });
    }
    if (!(margin > 0) || !Number.isFinite(margin)) {
      throw new QaqError('invalid-cache-config', 'scaleMargin must be a positive number', { details: { scaleMargin: margin } });
    }
    const channelCount = config.keyValueHeadCount * config.headDim;
    if (options.scales !== undefined) {
      const { keys, values } = options.scales;
      const wrong = [...keys, ...values].some((scales) => scales.length !== channelCount || scales.some((scale) => !(scale > 0) || !Number.isFinite(scale)));
      if (keys.length !== config.layerCount || values.length !== config.layerCount || wrong) {
        throw new QaqError('invalid-cache-config', 'scales need kvHeads · headDim positive finite floats per layer for keys and values', {
          details: { layerCount: config.layerCount, channelCount, keyLayers: keys.length, valueLayers: values.length },
        });
      }
    }
    this.#backend = options.backend;
    this.#session = options.session;
    this.#calibrationSession = options.calibrationSession;
    this.config = config;
    this.bits = bits;
    this.prefillChunkSize = chunk;
    this.scaleMargin = margin;
    this.calibrationTokens = calibrationTokens;
    this.#history = new Int32Array(calibrationTokens);
    this.#inputIds = new BigInt64Array(Math.max(chunk, calibrationTokens));
    this.#positionIds = new BigInt64Array(Math.max(chunk, calibrationTokens));
    this.vocabularySize = config.vocabSize;
    this.contextLength = config.contextLength;
    this.#fixedScales = options.scales !== undefined;
    this.#keyScales = Array.from({ length: config.layerCount }, (_, layer) => Float32Array.from(options.scales?.keys[layer] ?? new Float32Array(channelCount).fill(1)));
    this.#valueScales = Array.from({ length: config.layerCount }, (_, layer) => Float32Array.from(options.scales?.values[layer] ?? new Float32Array(channelCount).fill(1)));
    if (bits !== 0) {
      const shape = [1, config.keyValueHeadCount, 1, config.headDim];
      for (let layer = 0; layer < config.layerCount; layer++) {
        this.#scaleTensors[`k_scale.${layer}`] = this.#backend.createTensor('float32', this.#keyScales[layer]!, shape);
        this.#scaleTensors[`v_scale.${layer}`] = this.#backend.createTensor('float32', this.#valueScales[layer]!, shape);
      }
    }
    this.#logits = new Float32Array(this.vocabularySize);
    this.#logitsTensor = this.#backend.createTensor('float32', this.#logits, [1, 1, this.vocabularySize]);
    const layout = gqaCacheLayout(bits, config.headDim);
    this.#lastAxis = layout.lastAxis;
    this.#elementType = layout.elementType as 'int8' | 'uint8' | 'float32';
    this.#capacity = Math.min(this.contextLength, Math.max(1, options.initialCapacity ?? 256));
    this.#layers = Array.from({ length: config.layerCount }, () => this.#allocateLayer(this.#capacity));
  }

  get tokenCount(): number {
    return this.#tokenCount;
  }

  /** The provider the session really runs on. */
  get provider(): string {
    return this.#session.provider;
  }

  /** Cache capacity in tokens (every layer's buffers hold this many). */
  get capacity(): number {
    return this.#capacity;
  }

  /** The scales in use (copies); all ones before the first calibration. */
  scales(): KvChannelScales {
    return { keys: this.#keyScales.map((scales) => scales.slice()), values: this.#valueScales.map((scales) => scales.slice()) };
  }

  /** Bytes of every cache buffer and scale array this model holds (what `memory()` accounts for). */
  heldBytes(): number {
    let total = 0;
    for (const layer of this.#layers) total += layer.keys.byteLength + layer.values.byteLength;
    if (this.bits !== 0) for (const scales of [...this.#keyScales, ...this.#valueScales]) total += scales.byteLength;
    return total;
  }

  /**
   * `bytes`: codes of the live tokens (every layer keeps every token: onnxruntime masks sliding-window layers rather
   * than evicting) plus the fp32 scales; `slackBytes`: the unused capacity of the preallocated buffers.
   */
  memory(): KeyValueMemory {
    const { layerCount, keyValueHeadCount, headDim } = this.config;
    const elementBytes = this.#elementType === 'float32' ? 4 : 1;
    const tokenBytes = 2 * layerCount * keyValueHeadCount * this.#lastAxis * elementBytes;
    const scaleBytes = this.bits === 0 ? 0 : 2 * layerCount * keyValueHeadCount * headDim * Float32Array.BYTES_PER_ELEMENT;
    const bytes = this.#tokenCount * tokenBytes + scaleBytes;
    const elements = 2 * layerCount * this.#tokenCount * keyValueHeadCount * headDim;
    return {
      bytes,
      slackBytes: (this.#capacity - this.#tokenCount) * tokenBytes,
      fp16Bytes: elements * 2,
      elements,
      bitsPerElement: elements === 0 ? 0 : (8 * bytes) / elements,
    };
  }

  async forward(tokens: Int32Array, signal?: AbortSignalLike): Promise<Float32Array> {
    if (tokens.length === 0) throw new QaqError('empty-input', 'forward() needs at least one token', { details: {} });
    if (this.#tokenCount + tokens.length > this.contextLength) {
      throw new QaqError('context-full', 'the tokens do not fit in the context window', {
        details: { cached: this.#tokenCount, requested: tokens.length, contextLength: this.contextLength },
      });
    }
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= this.vocabularySize) {
        throw new QaqError('invalid-token', `token id ${token} is outside the vocabulary`, { details: { token, vocabularySize: this.vocabularySize } });
      }
    }
    let input = tokens;
    if (this.#needsRecalibration(tokens.length)) {
      // Recalibrate on every token of the sequence so far (at most calibrationTokens), then re-encode them: the cache
      // is emptied and the whole sequence fed again under the new scales.
      const seen = new Int32Array(this.#tokenCount + tokens.length);
      seen.set(this.#history.subarray(0, this.#tokenCount));
      seen.set(tokens, this.#tokenCount);
      this.#tokenCount = 0;
      await this.#calibrate(seen.subarray(0, Math.min(seen.length, this.calibrationTokens)), signal);
      input = seen;
    }
    const historyRoom = this.calibrationTokens - this.#tokenCount;
    if (historyRoom > 0) this.#history.set(input.subarray(0, historyRoom), this.#tokenCount);
    for (let start = 0; start < input.length; start += this.prefillChunkSize) {
      if (signal?.aborted === true) throw new QaqError('aborted', 'forward() was aborted', { details: {}, cause: signal.reason });
      await this.#run(input.subarray(start, Math.min(input.length, start + this.prefillChunkSize)));
    }
    return this.#logits;
  }

  /**
   * Scales come from the sequence's first `calibrationTokens` tokens. While fewer have been seen, recalibrate whenever
   * the count at least doubles since the last calibration (so a sequence fed one token at a time is re-encoded at 1,
   * 2, 4, …, 128 tokens: about 2 × calibrationTokens tokens of extra work in all).
   */
  #needsRecalibration(newTokens: number): boolean {
    if (this.bits === 0 || this.#fixedScales) return false;
    if (this.#calibratedOn === 0) return true;
    if (this.#calibratedOn >= this.calibrationTokens || this.#tokenCount >= this.calibrationTokens) return false;
    return this.#tokenCount + newTokens >= 2 * this.#calibratedOn;
  }

  /** A new sequence: the cache is emptied (buffers kept) and, unless scales are fixed, recalibrated on its first tokens. */
  reset(): void {
    this.#tokenCount = 0;
    this.#calibratedOn = 0;
  }

  async dispose(): Promise<void> {
    await this.#session.dispose();
    await this.#calibrationSession?.dispose();
  }

  /** input_ids, position_ids, seqlens_k and total_sequence_length of a chunk after the cached tokens. */
  #stepFeeds(chunk: Int32Array): Record<string, BackendTensor> {
    const count = chunk.length;
    const inputIds = this.#inputIds.subarray(0, count);
    const positionIds = this.#positionIds.subarray(0, count);
    for (let index = 0; index < count; index++) {
      inputIds[index] = BigInt(chunk[index]!);
      positionIds[index] = BigInt(this.#tokenCount + index);
    }
    const total = this.#tokenCount + count;
    const backend = this.#backend;
    return {
      input_ids: backend.createTensor('int64', inputIds, [1, count]),
      position_ids: backend.createTensor('int64', positionIds, [1, count]),
      seqlens_k: backend.createTensor('int32', this.#sequenceLength.fill(total - 1), [1]),
      total_sequence_length: backend.createTensor('int32', this.#totalLength.fill(total), []),
    };
  }

  /** Sets the scales from the calibration graph run on `tokens`, the sequence's first tokens (the cache must be empty). */
  async #calibrate(tokens: Int32Array, signal: AbortSignalLike | undefined): Promise<void> {
    if (signal?.aborted === true) throw new QaqError('aborted', 'forward() was aborted', { details: {}, cause: signal.reason });
    const session = this.#calibrationSession!;
    const fetches: string[] = [];
    for (let layer = 0; layer < this.config.layerCount; layer++) fetches.push(`key_absmax.${layer}`, `value_absmax.${layer}`);
    const results = await session.run(this.#stepFeeds(tokens), { fetches });
    const largest = gqaLargestCode(this.bits as 4 | 8);
    for (let layer = 0; layer < this.config.layerCount; layer++) {
      for (const [name, target] of [[`key_absmax.${layer}`, this.#keyScales[layer]!], [`value_absmax.${layer}`, this.#valueScales[layer]!]] as const) {
        const tensor = results[name];
        if (tensor === undefined || (tensor.location !== 'cpu' && tensor.location !== 'cpu-pinned')) {
          throw new QaqError('run-failed', `the calibration graph did not return ${name} on the CPU`, { details: { name } });
        }
        const absmax = tensor.data as Float32Array;
        // A channel that is zero over the whole chunk still needs a positive scale (onnxruntime divides by it).
        for (let channel = 0; channel < target.length; channel++) target[channel] = (Math.max(absmax[channel]!, 1e-6) * this.scaleMargin) / largest;
        tensor.dispose();
      }
    }
    this.#calibratedOn = tokens.length;
  }

  async #run(chunk: Int32Array): Promise<void> {
    this.#ensureCapacity(this.#tokenCount + chunk.length);
    const feeds = { ...this.#stepFeeds(chunk), ...this.#scaleTensors };
    const outputs: Record<string, BackendTensor> = { logits: this.#logitsTensor };
    this.#layers.forEach((layer, index) => {
      feeds[`past_key.${index}`] = layer.keyTensor;
      feeds[`past_value.${index}`] = layer.valueTensor;
      // The same tensor as the past: onnxruntime sees one buffer and appends in place (shared-buffer mode).
      outputs[`present_key.${index}`] = layer.keyTensor;
      outputs[`present_value.${index}`] = layer.valueTensor;
    });
    await this.#session.run(feeds, { outputs });
    this.#tokenCount += chunk.length;
  }

  #allocateLayer(capacity: number): LayerCache {
    const length = this.config.keyValueHeadCount * capacity * this.#lastAxis;
    const make = (): Int8Array | Uint8Array | Float32Array =>
      this.#elementType === 'int8' ? new Int8Array(length) : this.#elementType === 'uint8' ? new Uint8Array(length) : new Float32Array(length);
    const keys = make();
    const values = make();
    const shape = [1, this.config.keyValueHeadCount, capacity, this.#lastAxis];
    const tensor = (data: Int8Array | Uint8Array | Float32Array): BackendTensor =>
      this.#elementType === 'int8'
        ? this.#backend.createTensor('int8', data as Int8Array, shape)
        : this.#elementType === 'uint8'
          ? this.#backend.createTensor('uint8', data as Uint8Array, shape)
          : this.#backend.createTensor('float32', data as Float32Array, shape);
    return { keys, values, keyTensor: tensor(keys), valueTensor: tensor(values) };
  }

  /**
   * Grows the capacity to the next multiple of 256 tokens that fits `tokens` (up to the context length), copying each
   * head's live rows. Tight rather than doubling: onnxruntime-node copies every fetched output into a new ArrayBuffer,
   * preallocated ones included (OrtValueToNapiValue in its inference_session_wrap.cc), so every step pays a copy of the
   * whole present buffers and unused capacity costs time per token, not only memory; a re-layout every 256 tokens
   * costs one copy of the live rows.
   */
  #ensureCapacity(tokens: number): void {
    if (tokens <= this.#capacity) return;
    const step = 256;
    const next = Math.min(this.contextLength, Math.ceil(tokens / step) * step);
    const live = this.#tokenCount * this.#lastAxis;
    this.#layers.forEach((layer, index) => {
      const grown = this.#allocateLayer(next);
      for (let head = 0; head < this.config.keyValueHeadCount; head++) {
        const from = head * this.#capacity * this.#lastAxis;
        const to = head * next * this.#lastAxis;
        grown.keys.set(layer.keys.subarray(from, from + live) as Float32Array, to);
        grown.values.set(layer.values.subarray(from, from + live) as Float32Array, to);
      }
      layer.keyTensor.dispose();
      layer.valueTensor.dispose();
      this.#layers[index] = grown;
    });
    this.#capacity = next;
  }
}
