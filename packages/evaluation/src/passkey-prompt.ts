import { QaqError } from '@qaq/errors';

/** The part of a tokenizer passkey prompts need. */
export interface PasskeyTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): Int32Array;
  decode(ids: ArrayLike<number>): string;
  readonly bosTokenId: number | undefined;
}

export const passkeyIntroduction =
  'There is a pass key hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the pass key.\n\n';
export const passkeyQuestion = '\n\nWhat is the pass key? The pass key is';

/** The needle: the key said twice, as in the usual passkey-retrieval test (Mohtashami & Jaggi 2023). */
export function passkeyNeedle(passkey: string): string {
  return ` The pass key is ${passkey}. Remember it. ${passkey} is the pass key. `;
}

export interface PasskeyPromptOptions {
  readonly tokenizer: PasskeyTokenizer;
  /** Filler token ids from real text (no special tokens), at least as many as the prompt needs. */
  readonly fillerTokens: Int32Array;
  /** Total prompt length in tokens (BOS included when the tokenizer has one). */
  readonly length: number;
  /** Where the needle goes inside the filler: 0 = right after the introduction, 1 = right before the question. */
  readonly depth: number;
  readonly passkey: string;
  /** How far back (in tokens) the needle may move to land after a sentence end (default 48). */
  readonly sentenceSearchTokens?: number;
}

export interface PasskeyPrompt {
  readonly tokens: Int32Array;
  /** Index of the needle's first token in `tokens`. */
  readonly needleStart: number;
  /** Filler tokens used, and how many of them precede the needle. */
  readonly fillerCount: number;
  readonly fillerBeforeNeedle: number;
  /** The needle's position as a share of the filler actually used, after snapping to a sentence end. */
  readonly actualDepth: number;
  readonly passkey: string;
}

/**
 * Builds [BOS] introduction, filler[0, i), needle, filler[i, n), question: exactly `length` tokens, with the filler
 * taken from the start of `fillerTokens` and i = round(depth · n) moved back to just after the nearest sentence end
 * (a token whose text holds '.', '!' or '?') within `sentenceSearchTokens`, so the needle reads as its own sentence.
 */
export function buildPasskeyPrompt(options: PasskeyPromptOptions): PasskeyPrompt {
  const { tokenizer, fillerTokens, length, depth, passkey } = options;
  if (!(depth >= 0 && depth <= 1)) throw new QaqError('invalid-passkey', 'depth must be in [0, 1]', { details: { depth } });
  if (!/^\d+$/.test(passkey)) throw new QaqError('invalid-passkey', 'the pass key must be digits', { details: { passkey } });
  const prefix = tokenizer.bosTokenId === undefined ? [] : [tokenizer.bosTokenId];
  const introduction = tokenizer.encode(passkeyIntroduction, { addSpecialTokens: false });
  const needle = tokenizer.encode(passkeyNeedle(passkey), { addSpecialTokens: false });
  const question = tokenizer.encode(passkeyQuestion, { addSpecialTokens: false });
  const fillerCount = length - prefix.length - introduction.length - needle.length - question.length;
  if (!Number.isInteger(length) || fillerCount < 0) {
    throw new QaqError('invalid-passkey', 'the length does not fit the introduction, needle and question', {
      details: { length, fixedTokens: length - fillerCount },
    });
  }
  if (fillerCount > fillerTokens.length) {
    throw new QaqError('invalid-passkey', 'not enough filler text for this length', { details: { needed: fillerCount, available: fillerTokens.length } });
  }
  const search = options.sentenceSearchTokens ?? 48;
  let insertAt = Math.round(depth * fillerCount);
  if (insertAt > 0 && insertAt < fillerCount) {
    for (let candidate = insertAt; candidate > 0 && candidate >= insertAt - search; candidate--) {
      if (/[.!?]/.test(tokenizer.decode([fillerTokens[candidate - 1] as number]))) {
        insertAt = candidate;
        break;
      }
    }
  }
  const tokens = new Int32Array(length);
  let offset = 0;
  const put = (ids: ArrayLike<number>): void => {
    tokens.set(ids, offset);
    offset += ids.length;
  };
  put(prefix);
  put(introduction);
  put(fillerTokens.subarray(0, insertAt));
  const needleStart = offset;
  put(needle);
  put(fillerTokens.subarray(insertAt, fillerCount));
  put(question);
  return { tokens, needleStart, fillerCount, fillerBeforeNeedle: insertAt, actualDepth: fillerCount === 0 ? 0 : insertAt / fillerCount, passkey };
}

/** A five-digit pass key from a seed (mulberry32), the same for every method. */
export function passkeyFromSeed(seed: number): string {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  state = (state + 0x6d2b79f5) >>> 0;
  let mixed = Math.imul(state ^ (state >>> 15), state | 1);
  mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
  const unit = ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  return String(10000 + Math.floor(unit * 90000));
}

/** The first run of digits in generated text, or null. */
export function extractPasskeyAnswer(text: string): string | null {
  const match = /\d+/.exec(text);
  return match === null ? null : match[0];
}
