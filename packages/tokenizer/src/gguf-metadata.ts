import { QaqError } from '@qaq/errors';
import type { TokenizerModelKind, TokenizerSource } from './tokenizer-source.js';

/**
 * The one place that knows llama.cpp's GGUF key names for tokenizers. Accepts any metadata map (the values of
 * `@qaq/gguf`'s `readGguf(bytes).metadata` or of another reader): values are narrowed here, at the boundary.
 */
export function tokenizerSourceFromGgufMetadata(metadata: ReadonlyMap<string, unknown>): TokenizerSource {
  const ggmlModel = readString(metadata, 'tokenizer.ggml.model');
  if (ggmlModel === undefined) {
    throw new QaqError('missing-tokenizer-metadata', 'The GGUF metadata has no tokenizer.ggml.model', {
      details: { key: 'tokenizer.ggml.model' },
    });
  }
  const modelKind = modelKindOf(ggmlModel);
  const tokens = readStringArray(metadata, 'tokenizer.ggml.tokens');
  if (tokens === undefined || tokens.length === 0) {
    throw new QaqError('missing-tokenizer-metadata', 'The GGUF metadata has no tokenizer.ggml.tokens', {
      details: { key: 'tokenizer.ggml.tokens' },
    });
  }
  const scores = readNumberArray(metadata, 'tokenizer.ggml.scores');
  const tokenTypes = readNumberArray(metadata, 'tokenizer.ggml.token_type');
  for (const [key, values] of [
    ['tokenizer.ggml.scores', scores],
    ['tokenizer.ggml.token_type', tokenTypes],
  ] as const) {
    if (values !== undefined && values.length !== tokens.length) {
      const message = `${key} has ${values.length} entries for ${tokens.length} tokens`;
      throw new QaqError('invalid-tokenizer-metadata', message, {
        details: { key, entries: values.length, tokens: tokens.length },
      });
    }
  }
  const tokenId = (key: string): number | undefined => {
    const id = readInteger(metadata, key);
    if (id !== undefined && (id < 0 || id >= tokens.length)) {
      throw new QaqError('invalid-tokenizer-metadata', `${key} = ${id} is outside the vocabulary`, {
        details: { key, id, vocabularySize: tokens.length },
      });
    }
    return id;
  };
  return {
    modelKind,
    architecture: readString(metadata, 'general.architecture') ?? '',
    tokens,
    merges: readStringArray(metadata, 'tokenizer.ggml.merges'),
    scores,
    tokenTypes,
    bosTokenId: tokenId('tokenizer.ggml.bos_token_id'),
    eosTokenId: tokenId('tokenizer.ggml.eos_token_id'),
    endOfTurnTokenId: tokenId('tokenizer.ggml.eot_token_id'),
    padTokenId: tokenId('tokenizer.ggml.padding_token_id'),
    unknownTokenId: tokenId('tokenizer.ggml.unknown_token_id'),
    // Hugging Face's default when the flag is absent: llama.cpp adds BOS to SentencePiece vocabularies.
    addBosToken: readBoolean(metadata, 'tokenizer.ggml.add_bos_token') ?? modelKind === 'sentencepiece',
    addEosToken: readBoolean(metadata, 'tokenizer.ggml.add_eos_token') ?? false,
    preTokenizer: readString(metadata, 'tokenizer.ggml.pre'),
    chatTemplate: readString(metadata, 'tokenizer.chat_template'),
  };
}

function modelKindOf(ggmlModel: string): TokenizerModelKind {
  if (ggmlModel === 'gpt2') return 'bpe';
  if (ggmlModel === 'llama') return 'sentencepiece';
  const message = `GGUF tokenizer model "${ggmlModel}" is not supported (gpt2, llama)`;
  throw new QaqError('unsupported-tokenizer-model', message, {
    details: { ggmlModel },
  });
}

function wrongType(key: string, expected: string, value: unknown): QaqError {
  return new QaqError('invalid-tokenizer-metadata', `${key} should be ${expected}`, {
    details: { key, expected, actual: typeof value },
  });
}

function readString(metadata: ReadonlyMap<string, unknown>, key: string): string | undefined {
  const value = metadata.get(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw wrongType(key, 'a string', value);
  return value;
}

function readBoolean(metadata: ReadonlyMap<string, unknown>, key: string): boolean | undefined {
  const value = metadata.get(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw wrongType(key, 'a boolean', value);
  return value;
}

function readInteger(metadata: ReadonlyMap<string, unknown>, key: string): number | undefined {
  const value = metadata.get(key);
  if (value === undefined) return undefined;
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw wrongType(key, 'an integer', value);
  return number;
}

function readStringArray(metadata: ReadonlyMap<string, unknown>, key: string): readonly string[] | undefined {
  const value = metadata.get(key);
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw wrongType(key, 'an array of strings', value);
  for (const item of value) {
    if (typeof item !== 'string') throw wrongType(key, 'an array of strings', item);
  }
  return value as readonly string[];
}

function readNumberArray(metadata: ReadonlyMap<string, unknown>, key: string): ArrayLike<number> | undefined {
  const value = metadata.get(key);
  if (value === undefined) return undefined;
  if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array) return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !isBigIntArray(value)) {
    return value as unknown as ArrayLike<number>;
  }
  if (!Array.isArray(value)) throw wrongType(key, 'an array of numbers', value);
  for (const item of value) {
    if (typeof item !== 'number') throw wrongType(key, 'an array of numbers', item);
  }
  return value as readonly number[];
}

function isBigIntArray(value: ArrayBufferView): boolean {
  return value instanceof BigInt64Array || value instanceof BigUint64Array;
}
