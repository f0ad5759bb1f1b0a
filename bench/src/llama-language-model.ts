import type { KeyValueMemory, RuntimeLanguageModel } from '@qaq/runtime';
import { getLlama, LlamaLogLevel, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from 'node-llama-cpp';

/** llama.cpp's KV cache types compared here, with the bytes one element takes in each (ggml block sizes). */
export const llamaCacheTypes = {
  f16: { ggmlType: 'F16', bytesPerElement: 2 },
  q8_0: { ggmlType: 'Q8_0', bytesPerElement: 34 / 32 },
  q4_0: { ggmlType: 'Q4_0', bytesPerElement: 18 / 32 },
} as const;

export type LlamaCacheType = keyof typeof llamaCacheTypes;

export function isLlamaCacheType(value: string): value is LlamaCacheType {
  return Object.hasOwn(llamaCacheTypes, value);
}

export interface LlamaLanguageModelOptions {
  readonly modelPath: string;
  readonly threads: number;
  /** Tokens the context must hold (the evaluation window). */
  readonly contextSize: number;
  readonly vocabularySize: number;
  /**
   * Live KV elements (keys and values, all layers) when `tokenCount` tokens were fed — the same count our runtime's
   * accounting uses (sliding-window layers hold at most their window), so bytes compare like for like.
   */
  readonly liveElements: (tokenCount: number) => number;
}

/** One loaded llama.cpp model with one context per cache type; dispose() frees them all. */
export interface LlamaLanguageModels {
  readonly models: readonly LlamaLanguageModel[];
  dispose(): Promise<void>;
}

/**
 * llama.cpp (node-llama-cpp's prebuilt CPU binaries) behind our RuntimeLanguageModel interface, so @qaq/evaluation's
 * streaming evaluation drives it exactly as it drives our methods: same windows, same token ids (fed as ids, never
 * re-tokenized), same metrics. Flash attention is on for every cache type (llama.cpp needs it for a quantized V
 * cache), so f16, q8_0 and q4_0 differ only in the cache type. Full logits come from `controlledEvaluate` with
 * `logits: true` (every vocabulary entry, as a Map node-llama-cpp sorts), copied into a Float32Array.
 * `memory()` is computed, not read from llama.cpp: live elements × the cache type's bytes per element (llama.cpp
 * allocates the whole context up front, so its allocation says nothing about live tokens).
 */
export class LlamaLanguageModel implements RuntimeLanguageModel {
  readonly provider = 'llama.cpp-cpu';
  readonly contextLength: number;
  readonly vocabularySize: number;
  #tokenCount = 0;
  #clearPending = false;
  readonly #logits: Float32Array;
  readonly #sequence: LlamaContextSequence;

  private constructor(
    private readonly options: LlamaLanguageModelOptions,
    readonly cacheType: LlamaCacheType,
    private readonly context: LlamaContext,
  ) {
    this.contextLength = context.contextSize;
    this.vocabularySize = options.vocabularySize;
    this.#logits = new Float32Array(options.vocabularySize);
    this.#sequence = context.getSequence();
  }

  /** Loads the GGUF once into llama.cpp and opens one context per cache type (evaluated in lockstep). */
  static async loadAll(options: LlamaLanguageModelOptions, cacheTypes: readonly LlamaCacheType[]): Promise<LlamaLanguageModels> {
    const llama: Llama = await getLlama({
      gpu: false,
      build: 'never',
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      maxThreads: options.threads,
      logLevel: LlamaLogLevel.error,
    });
    const model: LlamaModel = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 0 });
    const models: LlamaLanguageModel[] = [];
    const dispose = async (): Promise<void> => {
      for (const entry of models) await entry.context.dispose();
      await model.dispose();
      await llama.dispose();
    };
    try {
      for (const cacheType of cacheTypes) {
        const ggmlType = llamaCacheTypes[cacheType].ggmlType;
        const context = await model.createContext({
          contextSize: options.contextSize,
          batchSize: 512,
          threads: { ideal: options.threads, min: options.threads },
          flashAttention: true,
          experimentalKvCacheKeyType: ggmlType,
          experimentalKvCacheValueType: ggmlType,
        });
        models.push(new LlamaLanguageModel(options, cacheType, context));
      }
    } catch (error) {
      await dispose();
      throw error;
    }
    return { models, dispose };
  }

  get tokenCount(): number {
    return this.#tokenCount;
  }

  /** llama.cpp's flash-attention setting in this context (what node-llama-cpp resolved it to). */
  get flashAttention(): string | boolean {
    return this.context.flashAttention;
  }

  async forward(tokens: Int32Array): Promise<Float32Array> {
    if (this.#clearPending) {
      await this.#sequence.clearHistory();
      this.#clearPending = false;
    }
    if (tokens.length === 0) throw new Error('forward() needs at least one token');
    const input = Array.from(tokens.subarray(0, tokens.length - 1), (id) => id as Token);
    const last = tokens[tokens.length - 1] as Token;
    const outputs = await this.#sequence.controlledEvaluate([...input, [last, { generateNext: { logits: true } }]]);
    const logits = outputs[tokens.length - 1]?.next.logits;
    if (logits === undefined || logits.size !== this.vocabularySize) {
      throw new Error(`llama.cpp returned ${logits?.size ?? 0} logits, ${this.vocabularySize} expected`);
    }
    for (const [token, logit] of logits) this.#logits[token] = logit;
    this.#tokenCount += tokens.length;
    return this.#logits;
  }

  /** Synchronous by contract: llama.cpp's history is cleared before the next forward(). */
  reset(): void {
    this.#clearPending = true;
    this.#tokenCount = 0;
  }

  memory(): KeyValueMemory {
    const elements = this.options.liveElements(this.#tokenCount);
    const bytes = elements * llamaCacheTypes[this.cacheType].bytesPerElement;
    return { bytes, slackBytes: 0, fp16Bytes: elements * 2, elements, bitsPerElement: elements === 0 ? 0 : (8 * bytes) / elements };
  }

  /** Times `steps` single-token evaluations without reading logits back (llama.cpp's own decode speed). */
  async timeDecode(prefix: Int32Array, steps: Int32Array): Promise<number> {
    await this.#sequence.clearHistory();
    await this.#sequence.evaluateWithoutGeneratingNewTokens(Array.from(prefix, (id) => id as Token));
    const started = performance.now();
    for (const id of steps) await this.#sequence.evaluateWithoutGeneratingNewTokens([id as Token]);
    const seconds = (performance.now() - started) / 1000;
    await this.#sequence.clearHistory();
    this.#tokenCount = 0;
    return steps.length / seconds;
  }

  /** Frees only this context; `LlamaLanguageModels.dispose()` frees the shared model too. */
  async dispose(): Promise<void> {
    await this.context.dispose();
  }
}
