import type { AbortSignalLike } from './causal-language-model.js';
import type { SamplingOptions } from './sampling-options.js';

export type FinishReason = 'eos' | 'stop-string' | 'max-tokens' | 'aborted' | 'context-full';

export interface GenerateOptions {
  /** Most tokens to generate (EOS not counted). Default: until the context is full. */
  readonly maxTokens?: number;
  readonly sampling?: SamplingOptions;
  /** Generation ends at the first of these; the result's text excludes it. */
  readonly stopStrings?: readonly string[];
  /** Stop at the tokenizer's EOS ids (default true). */
  readonly stopAtEos?: boolean;
  readonly signal?: AbortSignalLike;
  /** Feed the prompt in chunks of this many tokens (bounds activation memory). Default: one forward. */
  readonly prefillChunkSize?: number;
  /** Append the prompt to what the model already caches instead of resetting it first (default false). */
  readonly continueCache?: boolean;
}

export type GenerationEvent =
  /** After each prefill chunk. */
  | { readonly type: 'prefill'; readonly processedTokens: number; readonly promptTokenCount: number }
  /** A token was generated (EOS included, though it never adds text). */
  | { readonly type: 'token'; readonly tokenId: number }
  /** New visible text; concatenated, these equal the result's text. */
  | { readonly type: 'text'; readonly text: string };

export interface GenerationTimings {
  readonly prefillMilliseconds: number;
  /** Time in forward passes and sampling after the prefill (the caller's time between events excluded). */
  readonly decodeMilliseconds: number;
  readonly prefillTokensPerSecond: number;
  readonly decodeTokensPerSecond: number;
  /** From the start of the prefill to the first sampled token. */
  readonly timeToFirstTokenMilliseconds: number;
}

export interface GenerationResult {
  readonly text: string;
  /** Generated token ids, EOS excluded. */
  readonly tokenIds: Int32Array;
  readonly finishReason: FinishReason;
  /** The stop string that ended generation, when finishReason is 'stop-string'. */
  readonly stopString?: string;
  readonly promptTokenCount: number;
  readonly timings: GenerationTimings;
}
