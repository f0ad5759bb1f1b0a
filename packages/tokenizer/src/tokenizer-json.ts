import { QaqError } from '@qaq/errors';
import { isByteLevelSpelled, spellInByteLevel } from './byte-level-alphabet.js';
import { splitPatternForPreTokenizer } from './pre-tokenizer-splits.js';
import { deriveMergesInVocabularyOrder } from './sentencepiece-merges.js';
import { TokenType, type TokenizerSource } from './tokenizer-source.js';

/** One entry of tokenizer.json's `added_tokens`. */
export interface AddedTokenJson {
  readonly id: number;
  readonly content: string;
  readonly single_word: false;
  readonly lstrip: false;
  readonly rstrip: false;
  readonly normalized: false;
  readonly special: boolean;
}

type Component = Readonly<Record<string, unknown>>;

/** The subset of Hugging Face's tokenizer.json that the GGUF tokenizers need. */
export interface TokenizerJson {
  readonly version: '1.0';
  readonly added_tokens: readonly AddedTokenJson[];
  readonly normalizer: Component | null;
  readonly pre_tokenizer: Component | null;
  readonly post_processor: Component;
  readonly decoder: Component;
  readonly model: {
    readonly type: 'BPE';
    readonly vocab: Readonly<Record<string, number>>;
    readonly merges: ReadonlyArray<readonly [string, string]>;
    readonly unk_token: string | null;
    readonly fuse_unk: boolean;
    readonly byte_fallback: boolean;
    readonly ignore_merges: false;
    readonly continuing_subword_suffix: null;
    readonly end_of_word_suffix: null;
    readonly dropout: null;
  };
}

const gemmaArchitectures: ReadonlySet<string> = new Set(['gemma', 'gemma2', 'gemma3']);

/**
 * The tokenizer.json Hugging Face builds from the same GGUF (transformers' `gguf_tokenizer_mapping.py`):
 * byte-level BPE like `GPT2Tokenizer` for `gpt2` files, SentencePiece-as-BPE like `GemmaTokenizer` for Gemma's
 * `llama` files, with control tokens added as special tokens and user-defined tokens as plain added tokens.
 */
export function buildTokenizerJson(source: TokenizerSource): TokenizerJson {
  return source.modelKind === 'bpe' ? byteLevelJson(source) : gemmaJson(source);
}

function byteLevelJson(source: TokenizerSource): TokenizerJson {
  if (source.merges === undefined) {
    throw new QaqError('missing-tokenizer-merges', 'A byte-level BPE tokenizer needs its merges', {
      details: { modelKind: source.modelKind },
    });
  }
  // Tokens outside the byte alphabet (mislabelled specials) are respelled so that the vocabulary stays whole.
  const spelled = source.tokens.map((token) => (isByteLevelSpelled(token) ? token : spellInByteLevel(token)));
  const vocab = vocabularyOf(spelled);
  const splitPattern = splitPatternForPreTokenizer(source.preTokenizer);
  const byteLevel = {
    type: 'ByteLevel',
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: splitPattern === undefined,
  };
  return {
    version: '1.0',
    added_tokens: addedTokens(source, vocab, (token) => isByteLevelSpelled(token)),
    normalizer: null,
    pre_tokenizer:
      splitPattern === undefined
        ? byteLevel
        : {
            type: 'Sequence',
            pretokenizers: [
              { type: 'Split', pattern: { Regex: splitPattern }, behavior: 'Isolated', invert: false },
              byteLevel,
            ],
          },
    post_processor: templateProcessing(source),
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      vocab,
      merges: source.merges.map((merge) => splitMerge(merge)),
      unk_token: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      continuing_subword_suffix: null,
      end_of_word_suffix: null,
      dropout: null,
    },
  };
}

function gemmaJson(source: TokenizerSource): TokenizerJson {
  if (!gemmaArchitectures.has(source.architecture)) {
    throw new QaqError(
      'unsupported-tokenizer-model',
      `SentencePiece tokenizers are supported for Gemma architectures only, not "${source.architecture}"`,
      { details: { architecture: source.architecture, supported: [...gemmaArchitectures] } },
    );
  }
  // Gemma files store tokens of two or more spaces as real spaces; the tokenizer looks them up as "▁▁…".
  const spelled = source.tokens.map((token) =>
    token.includes(' ') && token.trim() === '' ? '\u2581'.repeat(token.length) : token,
  );
  const unknownToken = source.unknownTokenId === undefined ? '<unk>' : (source.tokens[source.unknownTokenId] as string);
  const vocab = vocabularyOf(spelled);
  return {
    version: '1.0',
    added_tokens: addedTokens(source, vocab, () => true),
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
    // Hugging Face also sets Split(" ", MergedWithPrevious), which never matches after the normalizer has
    // replaced every space; the JS library lacks that behaviour, so the no-op is left out.
    pre_tokenizer: null,
    post_processor: templateProcessing(source),
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
      ],
    },
    model: {
      type: 'BPE',
      vocab,
      merges: source.merges === undefined ? deriveMergesInVocabularyOrder(spelled) : source.merges.map(splitMerge),
      unk_token: unknownToken,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      continuing_subword_suffix: null,
      end_of_word_suffix: null,
      dropout: null,
    },
  };
}

/** token → id; a spelling listed twice keeps its last id. A null prototype keeps "__proto__" an ordinary token. */
function vocabularyOf(tokens: readonly string[]): Record<string, number> {
  const vocab = Object.create(null) as Record<string, number>;
  tokens.forEach((token, id) => {
    vocab[token] = id;
  });
  return vocab;
}

function splitMerge(merge: string): [string, string] {
  const parts = merge.split(' ');
  if (parts.length !== 2) {
    throw new QaqError('invalid-tokenizer-merges', `A merge must be two tokens separated by one space: "${merge}"`, {
      details: { merge },
    });
  }
  return parts as [string, string];
}

/** Control tokens become special added tokens, user-defined tokens plain added tokens, both matched whole. */
function addedTokens(
  source: TokenizerSource,
  vocab: Readonly<Record<string, number>>,
  acceptsControl: (token: string) => boolean,
): AddedTokenJson[] {
  const types = source.tokenTypes;
  if (types === undefined) return [];
  const byId = new Map<number, AddedTokenJson>();
  for (let index = 0; index < source.tokens.length; index++) {
    const token = source.tokens[index] as string;
    const type = types[index];
    const id = vocab[token];
    if (id === undefined) continue;
    if (type === TokenType.control && acceptsControl(token)) {
      byId.set(id, addedToken(id, token, true));
    } else if (type === TokenType.userDefined && !byId.has(id)) {
      byId.set(id, addedToken(id, token, false));
    }
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

function addedToken(id: number, content: string, special: boolean): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

/** BOS/EOS around each sequence when the file asks for them (Hugging Face's `update_post_processor`). */
function templateProcessing(source: TokenizerSource): Component {
  const bos = source.addBosToken && source.bosTokenId !== undefined ? source.tokens[source.bosTokenId] : undefined;
  const eos = source.addEosToken && source.eosTokenId !== undefined ? source.tokens[source.eosTokenId] : undefined;
  const special = (token: string | undefined, typeId: number): Component[] =>
    token === undefined ? [] : [{ SpecialToken: { id: token, type_id: typeId } }];
  const specialTokens: Record<string, Component> = {};
  for (const [token, id] of [
    [bos, source.bosTokenId],
    [eos, source.eosTokenId],
  ] as const) {
    if (token !== undefined && id !== undefined) specialTokens[token] = { id: token, ids: [id], tokens: [token] };
  }
  return {
    type: 'TemplateProcessing',
    single: [...special(bos, 0), { Sequence: { id: 'A', type_id: 0 } }, ...special(eos, 0)],
    pair: [
      ...special(bos, 0),
      { Sequence: { id: 'A', type_id: 0 } },
      ...special(eos, 0),
      ...special(bos, 1),
      { Sequence: { id: 'B', type_id: 1 } },
      ...special(eos, 1),
    ],
    special_tokens: specialTokens,
  };
}
