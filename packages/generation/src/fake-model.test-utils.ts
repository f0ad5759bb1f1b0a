import { QaqError } from '@qaq/errors';
import type {
  AbortSignalLike,
  CausalLanguageModel,
  GenerationTokenizer,
  StreamDecoder,
} from './causal-language-model.js';

/**
 * A real (tiny) causal LM for tests: next-token logits depend only on the last fed token through a bigram table.
 * It keeps an honest token count and refuses to overflow its context, like a KV-cached backend.
 */
export class BigramModel implements CausalLanguageModel {
  readonly vocabularySize: number;
  readonly contextLength: number;
  readonly forwardSizes: number[] = [];
  private readonly table: Float32Array;
  private readonly output: Float32Array;
  private cachedTokens = 0;
  /** Called before each forward resolves; lets a test stall a forward until the signal aborts. */
  beforeForward: ((callIndex: number, signal: AbortSignalLike | undefined) => Promise<void>) | undefined;

  constructor(table: Float32Array, vocabularySize: number, contextLength: number) {
    if (table.length !== vocabularySize * vocabularySize) throw new Error('bigram table must be V×V');
    this.table = table;
    this.vocabularySize = vocabularySize;
    this.contextLength = contextLength;
    this.output = new Float32Array(vocabularySize);
  }

  get tokenCount(): number {
    return this.cachedTokens;
  }

  async forward(tokens: Int32Array, signal?: AbortSignalLike): Promise<Float32Array> {
    if (this.cachedTokens + tokens.length > this.contextLength) {
      throw new QaqError('context-overflow', 'fed past the context', {
        details: { tokenCount: this.cachedTokens, fed: tokens.length },
      });
    }
    const callIndex = this.forwardSizes.length;
    this.forwardSizes.push(tokens.length);
    if (this.beforeForward !== undefined) await this.beforeForward(callIndex, signal);
    else await Promise.resolve();
    if (signal?.aborted) throw new QaqError('aborted', 'forward aborted');
    this.cachedTokens += tokens.length;
    const last = tokens[tokens.length - 1]!;
    this.output.set(this.table.subarray(last * this.vocabularySize, (last + 1) * this.vocabularySize));
    return this.output;
  }

  reset(): void {
    this.cachedTokens = 0;
  }
}

/** Builds a bigram table where each token strongly prefers one successor (greedy decoding follows `successor`). */
export function chainTable(successor: readonly number[], margin = 10): Float32Array {
  const size = successor.length;
  const table = new Float32Array(size * size);
  for (let token = 0; token < size; token++) table[token * size + successor[token]!] = margin;
  return table;
}

/** Tokenizer over whole-string pieces (longest match first). */
export class PieceTokenizer implements GenerationTokenizer {
  readonly eosTokenIds: readonly number[];
  private readonly pieces: readonly string[];

  constructor(pieces: readonly string[], eosTokenIds: readonly number[]) {
    this.pieces = pieces;
    this.eosTokenIds = eosTokenIds;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let position = 0;
    while (position < text.length) {
      let bestId = -1;
      let bestLength = 0;
      this.pieces.forEach((piece, id) => {
        if (!this.eosTokenIds.includes(id) && piece.length > bestLength && text.startsWith(piece, position)) {
          bestId = id;
          bestLength = piece.length;
        }
      });
      if (bestId < 0) throw new Error(`cannot encode at ${position}`);
      ids.push(bestId);
      position += bestLength;
    }
    return ids;
  }

  createStreamDecoder(): StreamDecoder {
    return {
      push: (id) => (this.eosTokenIds.includes(id) ? '' : this.pieces[id] ?? ''),
      flush: () => '',
    };
  }
}

interface AbortControllerLike {
  readonly signal: AbortSignalLike;
  abort(reason?: unknown): void;
}

/** The runtime's AbortController (this package compiles without DOM or Node types). */
export function createAbortController(): AbortControllerLike {
  const constructor = (globalThis as unknown as { AbortController: new () => AbortControllerLike }).AbortController;
  return new constructor();
}
