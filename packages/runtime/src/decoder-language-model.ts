import type { Backend, BackendSession, BackendTensor, CpuTensor } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import type { AbortSignalLike, CausalLanguageModel } from '@qaq/generation';
import type { DecoderConfig } from '@qaq/onnx-graph';
import type { KeyValueStore } from './key-value-store.js';

export interface DecoderLanguageModelOptions {
  readonly backend: Backend;
  readonly session: BackendSession;
  readonly config: DecoderConfig;
  readonly store: KeyValueStore;
}

/**
 * A causal LM over a decoder graph from @qaq/onnx-graph (built with `lastLogitsOnly`): the runtime owns the KV
 * cache, feeds its past as zero-copy views and has the graph write the new keys and values straight into it.
 */
export class DecoderLanguageModel implements CausalLanguageModel {
  readonly vocabularySize: number;
  readonly contextLength: number;
  readonly config: DecoderConfig;
  readonly store: KeyValueStore;
  readonly #backend: Backend;
  readonly #session: BackendSession;
  readonly #logits: Float32Array;
  readonly #logitsTensor: CpuTensor<'float32'>;
  #tokenCount = 0;

  constructor(options: DecoderLanguageModelOptions) {
    this.#backend = options.backend;
    this.#session = options.session;
    this.config = options.config;
    this.store = options.store;
    this.vocabularySize = options.config.vocabSize;
    this.contextLength = options.config.contextLength;
    this.#logits = new Float32Array(this.vocabularySize);
    this.#logitsTensor = this.#backend.createTensor('float32', this.#logits, [1, 1, this.vocabularySize]);
  }

  get tokenCount(): number {
    return this.#tokenCount;
  }

  /** The provider the session really runs on. */
  get provider(): string {
    return this.#session.provider;
  }

  async forward(tokens: Int32Array, signal?: AbortSignalLike): Promise<Float32Array> {
    const sequenceLength = tokens.length;
    if (sequenceLength === 0) {
      throw new QaqError('empty-input', 'forward() needs at least one token', { details: {} });
    }
    if (this.#tokenCount + sequenceLength > this.contextLength) {
      throw new QaqError('context-full', 'the tokens do not fit in the context window', {
        details: { cached: this.#tokenCount, requested: sequenceLength, contextLength: this.contextLength },
      });
    }
    if (signal?.aborted === true) {
      throw new QaqError('aborted', 'forward() was aborted', { details: {}, cause: signal.reason });
    }
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= this.vocabularySize) {
        throw new QaqError('invalid-token', `token id ${token} is outside the vocabulary`, {
          details: { token, vocabularySize: this.vocabularySize },
        });
      }
    }
    const backend = this.#backend;
    const inputIds = new BigInt64Array(sequenceLength);
    const positionIds = new BigInt64Array(sequenceLength);
    for (let index = 0; index < sequenceLength; index++) {
      inputIds[index] = BigInt(tokens[index]!);
      positionIds[index] = BigInt(this.#tokenCount + index);
    }
    const feeds: Record<string, BackendTensor> = {
      input_ids: backend.createTensor('int64', inputIds, [1, sequenceLength]),
      position_ids: backend.createTensor('int64', positionIds, [1, sequenceLength]),
    };
    const outputs: Record<string, BackendTensor> = { logits: this.#logitsTensor };
    const { keyValueHeadCount, headDim } = this.config;
    for (let layer = 0; layer < this.store.layerCount; layer++) {
      const pastLength = this.store.pastLength(layer);
      for (const kind of ['key', 'value'] as const) {
        // Reserve first: growing the storage moves it, and the past view must come from where it now lives.
        const reserved = this.store.reserve(layer, sequenceLength, kind);
        outputs[`${kind}.${layer}`] = backend.createTensor('float32', reserved, [1, sequenceLength, keyValueHeadCount, headDim]);
        feeds[`past_${kind}.${layer}`] = backend.createTensor('float32', this.store.pastView(layer, kind), [
          1,
          pastLength,
          keyValueHeadCount,
          headDim,
        ]);
      }
    }
    await this.#session.run(feeds, { outputs });
    this.store.commit(sequenceLength);
    this.#tokenCount += sequenceLength;
    return this.#logits;
  }

  reset(): void {
    this.store.reset();
    this.#tokenCount = 0;
  }

  async dispose(): Promise<void> {
    await this.#session.dispose();
  }
}
