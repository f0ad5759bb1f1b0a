import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readBook, readSmollm2, smollm2Present } from './model-files.test-utils.js';
import { buildPasskeyPrompt, extractPasskeyAnswer, passkeyFromSeed, passkeyNeedle, type PasskeyTokenizer } from './passkey-prompt.js';

/** A word-level tokenizer over a growing vocabulary: enough to check token arithmetic exactly. */
function wordTokenizer(): PasskeyTokenizer {
  const words: string[] = ['<bos>'];
  const ids = new Map<string, number>();
  return {
    bosTokenId: 0,
    encode(text: string): Int32Array {
      return Int32Array.from(
        (text.match(/\s+|\S+/g) ?? []).map((word) => {
          let id = ids.get(word);
          if (id === undefined) {
            id = words.length;
            words.push(word);
            ids.set(word, id);
          }
          return id;
        }),
      );
    },
    decode(list: ArrayLike<number>): string {
      return Array.from(list, (id) => words[id] ?? '').join('');
    },
  };
}

const filler = 'It was a bright cold day in April. The clocks were striking thirteen! Who could say why? '.repeat(200);

describe('buildPasskeyPrompt', () => {
  it('has exactly the asked length, holds the needle once, and moves it deeper with the depth', () => {
    const tokenizer = wordTokenizer();
    const fillerTokens = tokenizer.encode(filler);
    fc.assert(
      fc.property(fc.integer({ min: 120, max: 1500 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 1000 }), (length, depth, seed) => {
        const passkey = passkeyFromSeed(seed);
        const prompt = buildPasskeyPrompt({ tokenizer, fillerTokens, length, depth, passkey });
        expect(prompt.tokens.length).toBe(length);
        expect(prompt.tokens[0]).toBe(0);
        const text = tokenizer.decode(prompt.tokens);
        expect(text.split(passkeyNeedle(passkey)).length).toBe(2);
        expect(text.endsWith('The pass key is')).toBe(true);
        const needle = tokenizer.encode(passkeyNeedle(passkey));
        expect(Array.from(prompt.tokens.subarray(prompt.needleStart, prompt.needleStart + needle.length))).toEqual(Array.from(needle));
        // Snapping moves the needle back (never forward) by at most 48 tokens, to just after a sentence end.
        const asked = Math.round(depth * prompt.fillerCount);
        expect(prompt.fillerBeforeNeedle).toBeLessThanOrEqual(asked);
        expect(prompt.actualDepth).toBe(prompt.fillerBeforeNeedle / prompt.fillerCount);
        if (prompt.fillerBeforeNeedle !== asked) {
          expect(asked - prompt.fillerBeforeNeedle).toBeGreaterThan(0);
          expect(asked - prompt.fillerBeforeNeedle).toBeLessThanOrEqual(48);
          expect(tokenizer.decode([prompt.tokens[prompt.needleStart - 1] as number])).toMatch(/[.!?]/);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('puts the needle right after the introduction at depth 0 and right before the question at depth 1', () => {
    const tokenizer = wordTokenizer();
    const fillerTokens = tokenizer.encode(filler);
    const top = tokenizer.decode(buildPasskeyPrompt({ tokenizer, fillerTokens, length: 300, depth: 0, passkey: '12345' }).tokens);
    expect(top).toMatch(/pass key\.\n\n The pass key is 12345\. Remember it/);
    const bottom = tokenizer.decode(buildPasskeyPrompt({ tokenizer, fillerTokens, length: 300, depth: 1, passkey: '12345' }).tokens);
    expect(bottom).toMatch(/12345 is the pass key\. \n\nWhat is the pass key\? The pass key is$/);
  });

  it('rejects lengths too short or beyond the filler, bad depths and non-numeric keys', () => {
    const tokenizer = wordTokenizer();
    const fillerTokens = tokenizer.encode(filler);
    expect(() => buildPasskeyPrompt({ tokenizer, fillerTokens, length: 10, depth: 0.5, passkey: '1' })).toThrow(/does not fit/);
    expect(() => buildPasskeyPrompt({ tokenizer, fillerTokens, length: 1e6, depth: 0.5, passkey: '1' })).toThrow(/not enough filler/);
    expect(() => buildPasskeyPrompt({ tokenizer, fillerTokens, length: 300, depth: 1.5, passkey: '1' })).toThrow(/depth/);
    expect(() => buildPasskeyPrompt({ tokenizer, fillerTokens, length: 300, depth: 0.5, passkey: 'abc' })).toThrow(/digits/);
  });
});

describe('pass keys and answers', () => {
  it('draws five-digit keys from a seed, deterministically', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        expect(passkeyFromSeed(seed)).toMatch(/^[1-9]\d{4}$/);
      }),
    );
    expect(passkeyFromSeed(7)).toBe(passkeyFromSeed(7));
    expect(new Set(Array.from({ length: 100 }, (_, seed) => passkeyFromSeed(seed))).size).toBeGreaterThan(90);
  });

  it('reads the first number of the generated text', () => {
    expect(extractPasskeyAnswer(' 48213. Remember')).toBe('48213');
    expect(extractPasskeyAnswer(' unknown')).toBeNull();
  });
});

describe.runIf(smollm2Present())('buildPasskeyPrompt with the SmolLM2 tokenizer on a real book', () => {
  it('builds exact-length prompts whose text holds the needle once', () => {
    const { tokenizer } = readSmollm2();
    const fillerTokens = tokenizer.encode(readBook('chesterton-thursday').slice(0, 60_000), { addSpecialTokens: false });
    for (const length of [256, 1024]) {
      for (const depth of [0, 0.5, 1]) {
        const prompt = buildPasskeyPrompt({ tokenizer, fillerTokens, length, depth, passkey: '40917' });
        expect(prompt.tokens.length).toBe(length);
        const text = tokenizer.decode(prompt.tokens);
        expect(text.split('The pass key is 40917.').length).toBe(2);
        // Snapped back by at most 48 of the ~length − 60 filler tokens.
        expect(depth - prompt.actualDepth).toBeGreaterThanOrEqual(0);
        expect(depth - prompt.actualDepth).toBeLessThanOrEqual(48 / (length - 80));
      }
    }
  });
});
