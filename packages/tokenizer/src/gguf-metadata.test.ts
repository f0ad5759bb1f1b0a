import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { modelAvailable, modelPath, readGgufMetadata } from './gguf-files.test-utils.js';
import { tokenizerSourceFromGgufMetadata } from './gguf-metadata.js';

function thrownCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return isQaqError(error) ? error.code : `not a QaqError: ${String(error)}`;
  }
  return undefined;
}

const minimal = (entries: Record<string, unknown> = {}): Map<string, unknown> =>
  new Map(
    Object.entries({
      'general.architecture': 'llama',
      'tokenizer.ggml.model': 'gpt2',
      'tokenizer.ggml.tokens': ['a', 'b', 'ab'],
      'tokenizer.ggml.merges': ['a b'],
      ...entries,
    }),
  );

describe('tokenizerSourceFromGgufMetadata', () => {
  it('maps llama.cpp keys to a plain source, with Hugging Face defaults for absent flags', () => {
    const source = tokenizerSourceFromGgufMetadata(
      minimal({ 'tokenizer.ggml.eos_token_id': 2n, 'tokenizer.ggml.token_type': new Int32Array([1, 1, 3]) }),
    );
    expect(source).toMatchObject({ modelKind: 'bpe', architecture: 'llama', merges: ['a b'], eosTokenId: 2 });
    expect(source.addBosToken).toBe(false);
    expect(source.addEosToken).toBe(false);
    expect(source.chatTemplate).toBeUndefined();
    const sentencepiece = tokenizerSourceFromGgufMetadata(minimal({ 'tokenizer.ggml.model': 'llama' }));
    expect(sentencepiece.modelKind).toBe('sentencepiece');
    expect(sentencepiece.addBosToken).toBe(true);
  });

  it('rejects missing, unsupported and mistyped metadata', () => {
    expect(thrownCode(() => tokenizerSourceFromGgufMetadata(new Map()))).toBe('missing-tokenizer-metadata');
    expect(thrownCode(() => tokenizerSourceFromGgufMetadata(minimal({ 'tokenizer.ggml.tokens': [] })))).toBe(
      'missing-tokenizer-metadata',
    );
    expect(thrownCode(() => tokenizerSourceFromGgufMetadata(minimal({ 'tokenizer.ggml.model': 't5' })))).toBe(
      'unsupported-tokenizer-model',
    );
    for (const [key, value] of [
      ['tokenizer.ggml.tokens', ['a', 7]],
      ['tokenizer.ggml.add_bos_token', 1],
      ['tokenizer.ggml.bos_token_id', 1.5],
      ['tokenizer.ggml.bos_token_id', 3],
      ['tokenizer.ggml.scores', new Float32Array(2)],
      ['tokenizer.ggml.token_type', ['1', '1', '1']],
      ['tokenizer.chat_template', 42],
    ] as const) {
      expect(thrownCode(() => tokenizerSourceFromGgufMetadata(minimal({ [key]: value }))), key).toBe('invalid-tokenizer-metadata');
    }
  });

  it.runIf(modelAvailable('smollm2-135m'))('reads SmolLM2 as byte-level BPE with merges and a chat template', () => {
    const source = tokenizerSourceFromGgufMetadata(readGgufMetadata(modelPath('smollm2-135m')));
    expect(source.modelKind).toBe('bpe');
    expect(source.tokens).toHaveLength(49_152);
    expect(source.merges).toHaveLength(48_900);
    expect(source.preTokenizer).toBe('smollm');
    expect([source.bosTokenId, source.eosTokenId, source.unknownTokenId, source.padTokenId]).toEqual([1, 2, 0, 2]);
    expect(source.addBosToken).toBe(false);
    expect(source.chatTemplate).toContain('<|im_start|>');
  });

  it.runIf(modelAvailable('gemma3-270m'))('reads Gemma 3 as SentencePiece with scores, types and no merges', () => {
    const source = tokenizerSourceFromGgufMetadata(readGgufMetadata(modelPath('gemma3-270m')));
    expect(source.modelKind).toBe('sentencepiece');
    expect(source.architecture).toBe('gemma3');
    expect(source.tokens).toHaveLength(262_144);
    expect(source.merges).toBeUndefined();
    expect(source.scores?.length).toBe(262_144);
    expect(source.tokenTypes?.length).toBe(262_144);
    expect([source.bosTokenId, source.eosTokenId, source.unknownTokenId, source.padTokenId]).toEqual([2, 1, 3, 0]);
    expect(source.addBosToken).toBe(true);
    expect(source.chatTemplate).toBeUndefined();
    // Tokens that begin with U+FEFF must survive reading (a default TextDecoder strips it).
    expect(source.tokens.some((token) => token.startsWith('\uFEFF'))).toBe(true);
  });
});
