import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { readFixtureBytes } from './fixtures.test-utils.js';
import {
  metadataBoolean,
  metadataNumber,
  metadataNumberArray,
  metadataNumberArrayOrUndefined,
  metadataNumberOrUndefined,
  metadataString,
  metadataStringArray,
  metadataStringArrayOrUndefined,
  metadataStringOrUndefined,
  readGguf,
} from './index.js';

function errorOf(action: () => unknown): { code: string; key: unknown } {
  try {
    action();
  } catch (error) {
    if (isQaqError(error)) return { code: error.code, key: error.details['key'] };
    throw error;
  }
  throw new Error('nothing thrown');
}

describe('typed metadata getters', () => {
  const smollm = readGguf(readFixtureBytes('smollm2-seed.gguf'), { headerOnly: true });
  const gemma = readGguf(readFixtureBytes('gemma3-seed.gguf'), { headerOnly: true });
  const synthetic = readGguf(readFixtureBytes('synthetic.gguf'));

  it('read values of the right type', () => {
    expect(metadataString(smollm, 'general.architecture')).toBe('llama');
    expect(metadataNumber(smollm, 'llama.block_count')).toBe(30);
    expect(metadataNumber(smollm, 'llama.rope.freq_base')).toBe(100000);
    expect(metadataNumber(gemma, 'gemma3.attention.sliding_window')).toBe(512);
    expect(metadataStringArray(smollm, 'tokenizer.ggml.tokens').slice(0, 2)).toEqual(['<|endoftext|>', '<|im_start|>']);
    expect(metadataNumberArray(gemma, 'tokenizer.ggml.scores')).toBeInstanceOf(Float32Array);
    expect(metadataNumberArray(smollm, 'tokenizer.ggml.token_type')).toBeInstanceOf(Int32Array);
    expect(metadataBoolean(smollm, 'tokenizer.ggml.add_bos_token')).toBe(false);
    expect(metadataNumber(synthetic, 'synthetic.uint64')).toBe(2 ** 40 + 3);
    expect(metadataNumberArray(synthetic, 'synthetic.uint64s')).toEqual(new Float64Array([1, 2, 2 ** 40]));
  });

  it('optional variants return undefined for missing keys', () => {
    expect(metadataStringOrUndefined(smollm, 'nope')).toBeUndefined();
    expect(metadataNumberOrUndefined(smollm, 'nope')).toBeUndefined();
    expect(metadataStringArrayOrUndefined(smollm, 'nope')).toBeUndefined();
    expect(metadataNumberArrayOrUndefined(smollm, 'nope')).toBeUndefined();
  });

  it('errors name the key when missing or of the wrong type', () => {
    expect(errorOf(() => metadataString(smollm, 'general.nope'))).toEqual({ code: 'missing-metadata', key: 'general.nope' });
    expect(errorOf(() => metadataNumber(smollm, 'general.architecture'))).toEqual({
      code: 'wrong-metadata-type',
      key: 'general.architecture',
    });
    expect(errorOf(() => metadataString(smollm, 'llama.block_count')).code).toBe('wrong-metadata-type');
    expect(errorOf(() => metadataStringArray(smollm, 'tokenizer.ggml.token_type')).code).toBe('wrong-metadata-type');
    expect(errorOf(() => metadataNumberArray(smollm, 'tokenizer.ggml.tokens')).code).toBe('wrong-metadata-type');
    expect(errorOf(() => metadataStringArray(synthetic, 'synthetic.bools')).code).toBe('wrong-metadata-type');
    expect(errorOf(() => metadataBoolean(smollm, 'general.architecture')).code).toBe('wrong-metadata-type');
  });
});
