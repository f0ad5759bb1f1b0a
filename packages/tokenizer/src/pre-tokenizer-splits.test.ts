/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { Tokenizer as HuggingFaceTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { spellInByteLevel } from './byte-level-alphabet.js';
import { splitPatternForPreTokenizer } from './pre-tokenizer-splits.js';
import { tinyByteLevelSource } from './tiny-source.test-utils.js';
import { buildTokenizerJson } from './tokenizer-json.js';

// Written by scripts/make-fixtures.py from transformers' GGUF_PRE_TOKENIZER_SPLITS and the Rust tokenizers' Split.
const fixture = JSON.parse(readFileSync(new URL('../fixtures/pre-tokenizer-splits.json', import.meta.url), 'utf8')) as {
  text: string;
  splits: Record<string, { pattern: string; pieces: string[] }>;
};

describe('byte-level split patterns by tokenizer.ggml.pre', () => {
  it.each(Object.keys(fixture.splits))('%s: same pattern as transformers, same pieces as Rust tokenizers', (name) => {
    const expected = fixture.splits[name];
    if (expected === undefined) throw new Error(`no fixture for ${name}`);
    expect(splitPatternForPreTokenizer(name)).toBe(expected.pattern);
    const json = buildTokenizerJson(tinyByteLevelSource({ preTokenizer: name }));
    const preTokenizer = new HuggingFaceTokenizer(json, {}).pre_tokenizer;
    expect(preTokenizer?.pre_tokenize(fixture.text)).toEqual(expected.pieces.map(spellInByteLevel));
  });

  it('falls back to the GPT-2 split built into ByteLevel for other names, as transformers does', () => {
    expect(splitPatternForPreTokenizer('smollm')).toBeUndefined();
    expect(splitPatternForPreTokenizer(undefined)).toBeUndefined();
    expect(buildTokenizerJson(tinyByteLevelSource({ preTokenizer: 'smollm' })).pre_tokenizer).toMatchObject({
      type: 'ByteLevel',
      use_regex: true,
    });
  });
});
