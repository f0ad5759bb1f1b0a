import type { Backend, BackendSession, BackendTensor, SessionOptions } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import type { AbortSignalLike, CausalLanguageModel } from '@qaq/generation';
import type { DecoderConfig } from '@qaq/onnx-graph';
import type { KeyValueMemory } from './key-value-store.js';
import type { LayerAttention, LayerAttentionShape } from './layer-attention.js';

export interface SegmentedLanguageModelOptions {
  readonly backend: Backend;
  /** layerCount + 1 sessions of `buildDecoderSegments(…, { lastLogitsOnly: true })`, in order. */
  readonly sessions: readonly BackendSession[];
  readonly config: DecoderConfig;
  readonly attention: LayerAttention;
  /** Longer inputs are fed this many tokens at a time (default 128), so every chunk sees the cache as decoding does. */
  readonly prefillChunkSize?: number;
}

/**
 * Session options for the segments of a segmented decoder: the caller's, with the CPU memory arena off unless
 * the caller says otherwise. Each of the L + 1 sessions would otherwise keep its own arena sized by its largest
 * run (the prefill chunk): peak RSS 1.84 GB vs 732 MB for SmolLM2 at 2k (docs/benchmarks/kv-memory.md), at no
 * measurable decode cost.
 */
export function segmentSessionOptions(options: SessionOptions | undefined): SessionOptions {
  return { cpuMemoryArena: false, ...options };
}

/** The shape a LayerAttention needs, from a decoder config. */
export function layerAttentionShape(config: DecoderConfig): LayerAttentionShape {
  return {
    layerCount: config.layerCount,
    queryHeadCount: config.queryHeadCount,
    keyValueHeadCount: config.keyValueHeadCount,
    headDim: config.headDim,
    scoreScale: config.attentionScale,
    slidingWindows: config.layerKinds.map((kind) => (kind === 'sliding' ? config.slidingWindow : null)),
  };
}

/** Preallocated feeds and outputs of every segment for one chunk length S (views on the shared buffers). */
interface RunPlan {
  readonly feeds: readonly Record<string, BackendTensor>[];
  readonly outputs: readonly Record<string, BackendTensor>[];
}

/**
 * A causal LM run segment by segment (the decoder cut at every attention by @qaq/onnx-graph's split mode): the
 * graphs compute everything but attention; between segment i and i + 1 a `LayerAttention` appends layer i's new
 * keys and values to its own cache and attends over it. Buffers (ids, positions, two hidden buffers used in turn,
 * query/key/value/attention of one layer, logits) are allocated once for the largest chunk and reused by every
 * layer and step; their tensor wrappers are built once per chunk length.
 */
export class SegmentedLanguageModel implements CausalLanguageModel {
  readonly vocabularySize: number;
  readonly contextLength: number;
  readonly config: DecoderConfig;
  readonly attention: LayerAttention;
  readonly prefillChunkSize: number;
  readonly #backend: Backend;
  readonly #sessions: readonly BackendSession[];
  readonly #segmentTakesPositions: readonly boolean[];
  readonly #inputIds: BigInt64Array;
  readonly #positionIds: BigInt64Array;
  readonly #hidden: readonly [Float32Array, Float32Array];
  readonly #query: Float32Array;
  readonly #key: Float32Array;
  readonly #value: Float32Array;
  readonly #attended: Float32Array;
  readonly #logits: Float32Array;
  readonly #plans = new Map<number, RunPlan>();
  #tokenCount = 0;

  constructor(options: SegmentedLanguageModelOptions) {
    const { config, sessions } = options;
    if (sessions.length !== config.layerCount + 1) {
      throw new QaqError('invalid-segments', 'a segmented model needs layerCount + 1 sessions', {
        details: { sessions: sessions.length, layerCount: config.layerCount },
      });
    }
    const chunk = options.prefillChunkSize ?? 128;
    if (!Number.isInteger(chunk) || chunk < 1) {
      throw new QaqError('invalid-prefill-chunk-size', 'prefillChunkSize must be a positive integer', { details: { prefillChunkSize: chunk } });
    }
    this.#backend = options.backend;
    this.#sessions = sessions;
    this.config = config;
    this.attention = options.attention;
    this.prefillChunkSize = chunk;
    this.vocabularySize = config.vocabSize;
    this.contextLength = config.contextLength;
    this.#segmentTakesPositions = sessions.map((session) => session.inputs.some((input) => input.name === 'position_ids'));
    const { hiddenSize, queryHeadCount, keyValueHeadCount, headDim } = config;
    this.#inputIds = new BigInt64Array(chunk);
    this.#positionIds = new BigInt64Array(chunk);
    this.#hidden = [new Float32Array(chunk * hiddenSize), new Float32Array(chunk * hiddenSize)];
    this.#query = new Float32Array(chunk * queryHeadCount * headDim);
    this.#key = new Float32Array(chunk * keyValueHeadCount * headDim);
    this.#value = new Float32Array(chunk * keyValueHeadCount * headDim);
    this.#attended = new Float32Array(chunk * queryHeadCount * headDim);
    this.#logits = new Float32Array(this.vocabularySize);
  }

  get tokenCount(): number {
    return this.#tokenCount;
  }

  /** The provider the segments really run on. */
  get provider(): string {
    return this.#sessions[0]?.provider ?? 'cpu';
  }

  memory(): KeyValueMemory {
    return this.attention.memory();
  }

  async forward(tokens: Int32Array, signal?: AbortSignalLike): Promise<Float32Array> {
    const total = tokens.length;
    if (total === 0) throw new QaqError('empty-input', 'forward() needs at least one token', { details: {} });
    if (this.#tokenCount + total > this.contextLength) {
      throw new QaqError('context-full', 'the tokens do not fit in the context window', {
        details: { cached: this.#tokenCount, requested: total, contextLength: this.contextLength },
      });
    }
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= this.vocabularySize) {
        throw new QaqError('invalid-token', `token id ${token} is outside the vocabulary`, {
          details: { token, vocabularySize: this.vocabularySize },
        });
      }
    }
    for (let start = 0; start < total; start += this.prefillChunkSize) {
      if (signal?.aborted === true) {
        throw new QaqError('aborted', 'forward() was aborted', { details: {}, cause: signal.reason });
      }
      await this.#runChunk(tokens.subarray(start, Math.min(total, start + this.prefillChunkSize)));
    }
    return this.#logits;
  }

  async #runChunk(tokens: Int32Array): Promise<void> {
    const length = tokens.length;
    for (let index = 0; index < length; index++) {
      this.#inputIds[index] = BigInt(tokens[index] as number);
      this.#positionIds[index] = BigInt(this.#tokenCount + index);
    }
    const plan = this.#plan(length);
    const { layerCount, queryHeadCount, keyValueHeadCount, headDim } = this.config;
    const query = this.#query.subarray(0, length * queryHeadCount * headDim);
    const key = this.#key.subarray(0, length * keyValueHeadCount * headDim);
    const value = this.#value.subarray(0, length * keyValueHeadCount * headDim);
    const attended = this.#attended.subarray(0, length * queryHeadCount * headDim);
    for (let segment = 0; segment <= layerCount; segment++) {
      await (this.#sessions[segment] as BackendSession).run(plan.feeds[segment] as Record<string, BackendTensor>, {
        outputs: plan.outputs[segment] as Record<string, BackendTensor>,
      });
      // A strategy may attend on a backend session (GraphAttentionKernel): then attend returns a promise.
      if (segment < layerCount) await this.attention.attend(segment, query, key, value, length, attended);
    }
    this.#tokenCount += length;
  }

  /** Tensor wrappers for chunk length S: built once per length (decode, the chunk size, one prefill remainder). */
  #plan(length: number): RunPlan {
    const existing = this.#plans.get(length);
    if (existing !== undefined) return existing;
    const backend = this.#backend;
    const { layerCount, hiddenSize, queryHeadCount, keyValueHeadCount, headDim } = this.config;
    const inputIds = backend.createTensor('int64', this.#inputIds.subarray(0, length), [1, length]);
    const positions = backend.createTensor('int64', this.#positionIds.subarray(0, length), [1, length]);
    const hidden = this.#hidden.map((buffer) => backend.createTensor('float32', buffer.subarray(0, length * hiddenSize), [1, length, hiddenSize]));
    const query = backend.createTensor('float32', this.#query.subarray(0, length * queryHeadCount * headDim), [1, length, queryHeadCount, headDim]);
    const key = backend.createTensor('float32', this.#key.subarray(0, length * keyValueHeadCount * headDim), [1, length, keyValueHeadCount, headDim]);
    const value = backend.createTensor('float32', this.#value.subarray(0, length * keyValueHeadCount * headDim), [1, length, keyValueHeadCount, headDim]);
    const attended = backend.createTensor('float32', this.#attended.subarray(0, length * queryHeadCount * headDim), [1, length, queryHeadCount * headDim]);
    const logits = backend.createTensor('float32', this.#logits, [1, 1, this.vocabularySize]);
    const feeds: Record<string, BackendTensor>[] = [];
    const outputs: Record<string, BackendTensor>[] = [];
    for (let segment = 0; segment <= layerCount; segment++) {
      const feed: Record<string, BackendTensor> =
        segment === 0 ? { input_ids: inputIds } : { [`hidden.${segment - 1}`]: hidden[(segment - 1) % 2]!, [`attention.${segment - 1}`]: attended };
      if (this.#segmentTakesPositions[segment] === true) feed['position_ids'] = positions;
      feeds.push(feed);
      outputs.push(
        segment === layerCount
          ? { logits }
          : { [`hidden.${segment}`]: hidden[segment % 2]!, [`query.${segment}`]: query, [`key.${segment}`]: key, [`value.${segment}`]: value },
      );
    }
    const plan = { feeds, outputs };
    // Decode (1) and full chunks recur every call; keep a few other lengths (prefill remainders) at most.
    if (this.#plans.size >= 8) {
      for (const cached of this.#plans.keys()) {
        if (cached !== 1 && cached !== this.prefillChunkSize) {
          this.#plans.delete(cached);
          break;
        }
      }
    }
    this.#plans.set(length, plan);
    return plan;
  }

  reset(): void {
    this.attention.reset();
    this.#tokenCount = 0;
  }

  async dispose(): Promise<void> {
    for (const session of this.#sessions) await session.dispose();
    await this.attention.dispose();
  }
}
