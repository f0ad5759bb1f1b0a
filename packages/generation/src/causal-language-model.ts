/**
 * The part of the standard AbortSignal that generation and backends use. Declared here because this package compiles
 * without DOM or Node types; a real AbortSignal satisfies it.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * What generation needs from a model: a KV-cached causal LM that returns the logits of the last fed token.
 * Backends (ONNX, WebGPU, CPU reference) implement this; the generation loop never sees their internals.
 */
export interface CausalLanguageModel {
  readonly vocabularySize: number;
  readonly contextLength: number;
  /** Tokens currently in the cache. */
  readonly tokenCount: number;
  /**
   * Feed tokens (the whole prompt, a prompt chunk, or one token per decode step); returns the logits of the LAST
   * fed token (`vocabularySize` values). The returned view is valid until the next call.
   */
  forward(tokens: Int32Array, signal?: AbortSignalLike): Promise<Float32Array>;
  /** Empties the cache. */
  reset(): void;
}

/** Incremental detokenizer: `push` returns the text completed by this token (may be '' mid UTF-8 sequence). */
export interface StreamDecoder {
  push(id: number): string;
  /** Returns whatever text is still held (e.g. an incomplete UTF-8 sequence, replaced). */
  flush(): string;
}

export interface GenerationTokenizer {
  encode(text: string): Int32Array | number[];
  createStreamDecoder(): StreamDecoder;
  readonly eosTokenIds: readonly number[];
}
