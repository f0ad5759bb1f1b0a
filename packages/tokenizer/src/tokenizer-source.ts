/**
 * Everything needed to build a tokenizer, as plain data: no classes, no file format. A GGUF file is one way to
 * fill it in (see `tokenizerSourceFromGgufMetadata`); tests and other formats can fill it in directly.
 */

/** `bpe`: byte-level BPE with merges (GGUF `gpt2`). `sentencepiece`: pieces with scores and byte fallback (GGUF `llama`). */
export type TokenizerModelKind = 'bpe' | 'sentencepiece';

/** llama.cpp's token types (GGUF `tokenizer.ggml.token_type`). */
export const TokenType = {
  undefined: 0,
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;
export type TokenType = (typeof TokenType)[keyof typeof TokenType];

export interface TokenizerSource {
  readonly modelKind: TokenizerModelKind;
  /**
   * Picks the variant of a model kind, as Hugging Face does from `general.architecture`: `gemma`, `gemma2` and
   * `gemma3` SentencePiece vocabularies need their own handling (see `sentencepiece-merges.ts`).
   */
  readonly architecture: string;
  /** Token strings indexed by id, spelled as the file spells them. */
  readonly tokens: readonly string[];
  /** `"left right"` pairs in priority order; absent for SentencePiece files, whose merges are derived. */
  readonly merges?: readonly string[] | undefined;
  /** One score per token (SentencePiece); absent for byte-level BPE. */
  readonly scores?: ArrayLike<number> | undefined;
  /** One `TokenType` per token; absent means every token is normal. */
  readonly tokenTypes?: ArrayLike<number> | undefined;
  readonly bosTokenId?: number | undefined;
  readonly eosTokenId?: number | undefined;
  /** End-of-turn token (GGUF `tokenizer.ggml.eot_token_id`), when the file names one. */
  readonly endOfTurnTokenId?: number | undefined;
  readonly padTokenId?: number | undefined;
  readonly unknownTokenId?: number | undefined;
  readonly addBosToken: boolean;
  readonly addEosToken: boolean;
  /** Pre-tokenizer name (GGUF `tokenizer.ggml.pre`), e.g. `smollm`, `llama3`, `qwen2`, `default`. */
  readonly preTokenizer?: string | undefined;
  /** A Jinja chat template (GGUF `tokenizer.chat_template`). */
  readonly chatTemplate?: string | undefined;
}
