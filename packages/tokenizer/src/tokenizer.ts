import { Tokenizer as HuggingFaceTokenizer } from '@huggingface/tokenizers';
import { QaqError } from '@qaq/errors';
import { ChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat-template.js';
import { endOfGenerationTokenIds } from './end-of-generation.js';
import { createStreamDecoder, type StreamDecoder } from './stream-decoder.js';
import { buildTokenizerJson } from './tokenizer-json.js';
import type { TokenizerSource } from './tokenizer-source.js';
import { validateTokenizerSource } from './validate-source.js';

export interface EncodeOptions {
  /** Adds the BOS/EOS tokens the model asks for (default true, as in Hugging Face). */
  readonly addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leaves out special (control) tokens such as `<|im_end|>` or `<bos>` (default false). */
  readonly skipSpecialTokens?: boolean;
}

export interface Tokenizer {
  /** Number of token ids, special ones included. */
  readonly vocabularySize: number;
  readonly bosTokenId: number | undefined;
  /** Every id that ends generation: EOS, end-of-turn, and the known end markers (e.g. `<|im_end|>`, `<end_of_turn>`). */
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number | undefined;
  readonly hasChatTemplate: boolean;
  /** Text to ids, exactly as Hugging Face transformers tokenizes the same GGUF. */
  encode(text: string, options?: EncodeOptions): Int32Array;
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** A decoder for ids arriving one by one that never splits a multi-byte character. */
  createStreamDecoder(options?: DecodeOptions): StreamDecoder;
  /** The vocabulary entry of `id` as Hugging Face spells it (`convert_ids_to_tokens`), e.g. `Ġthe` or `▁the`. */
  tokenToString(id: number): string;
  isSpecialToken(id: number): boolean;
  /** Renders the model's chat template; throws `missing-chat-template` when the model has none. */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions): string;
}

/** Builds a tokenizer from plain data, running Hugging Face's tokenizers.js on the equivalent tokenizer.json. */
export function createTokenizer(source: TokenizerSource): Tokenizer {
  validateTokenizerSource(source);
  const json = buildTokenizerJson(source);
  const backend = new HuggingFaceTokenizer(json, { clean_up_tokenization_spaces: false });
  const vocabularySize = source.tokens.length;
  const special = new Uint8Array(vocabularySize);
  for (const token of json.added_tokens) if (token.special) special[token.id] = 1;
  const tokenName = (id: number | undefined): string | undefined => (id === undefined ? undefined : source.tokens[id]);
  let chatTemplate: ChatTemplate | undefined;

  const checkId = (id: number, position: number): void => {
    if (!(Number.isInteger(id) && id >= 0 && id < vocabularySize)) {
      throw new QaqError('invalid-token-id', `Token id ${id} is outside the vocabulary of ${vocabularySize}`, {
        details: { id, position, vocabularySize },
      });
    }
  };
  const checkIds = (ids: ArrayLike<number>): number[] => {
    const checked = Array.from(ids);
    checked.forEach(checkId);
    return checked;
  };
  const decodeChecked = (ids: readonly number[], skipSpecialTokens: boolean): string => {
    const kept = skipSpecialTokens ? ids.filter((id) => special[id] === 0) : [...ids];
    if (kept.length === 0) return ''; // tokenizers.js rejects an empty list
    return backend.decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  };

  return {
    vocabularySize,
    bosTokenId: source.bosTokenId,
    eosTokenIds: endOfGenerationTokenIds(source),
    padTokenId: source.padTokenId,
    hasChatTemplate: source.chatTemplate !== undefined,
    encode(text, options = {}) {
      if (typeof text !== 'string') {
        throw new QaqError('invalid-text', 'encode() takes a string', { details: { type: typeof text } });
      }
      const { ids } = backend.encode(text, { add_special_tokens: options.addSpecialTokens ?? true });
      const output = new Int32Array(ids.length);
      for (let index = 0; index < ids.length; index++) {
        const id = ids[index];
        // tokenizers.js maps token strings back to ids; a miss would mean the vocabulary was built wrong.
        if (id === undefined) {
          throw new QaqError('token-not-in-vocabulary', 'The tokenizer produced an unknown token', {
            details: { index },
          });
        }
        output[index] = id;
      }
      return output;
    },
    decode(ids, options = {}) {
      return decodeChecked(checkIds(ids), options.skipSpecialTokens ?? false);
    },
    createStreamDecoder(options = {}) {
      const skipSpecialTokens = options.skipSpecialTokens ?? false;
      return createStreamDecoder(
        (ids) => decodeChecked(ids, false),
        (id) => {
          checkId(id, 0);
          return skipSpecialTokens && special[id] === 1;
        },
      );
    },
    tokenToString(id) {
      checkId(id, 0);
      return backend.id_to_token(id) as string;
    },
    isSpecialToken(id) {
      checkId(id, 0);
      return special[id] === 1;
    },
    applyChatTemplate(messages, options) {
      if (source.chatTemplate === undefined) {
        throw new QaqError('missing-chat-template', 'This model has no chat template (tokenizer.chat_template)', {
          details: { architecture: source.architecture },
        });
      }
      chatTemplate ??= new ChatTemplate(source.chatTemplate, specialTokenNames({
        bos_token: tokenName(source.bosTokenId),
        eos_token: tokenName(source.eosTokenId),
        unk_token: tokenName(source.unknownTokenId),
        pad_token: tokenName(source.padTokenId),
      }));
      return chatTemplate.render(messages, options);
    },
  };
}

function specialTokenNames(names: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [key, value] of Object.entries(names)) if (value !== undefined) defined[key] = value;
  return defined;
}
