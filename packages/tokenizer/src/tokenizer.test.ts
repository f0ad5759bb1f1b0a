import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { tinyByteLevelSource, tinyId } from './tiny-source.test-utils.js';
import { createTokenizer } from './tokenizer.js';

function thrownCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return isQaqError(error) ? error.code : `not a QaqError: ${String(error)}`;
  }
  return undefined;
}

describe('createTokenizer on a tiny byte-level vocabulary', () => {
  const tokenizer = createTokenizer(tinyByteLevelSource());

  it('applies merges in rank order and matches control tokens whole', () => {
    const ids = tokenizer.encode('the world<|end|>', { addSpecialTokens: false });
    expect(ids).toBeInstanceOf(Int32Array);
    expect(Array.from(ids, (id) => tokenizer.tokenToString(id))).toEqual(['t', 'he', 'Ġw', 'or', 'ld', '<|end|>']);
    expect(Array.from(tokenizer.encode(' the'), (id) => tokenizer.tokenToString(id))).toEqual(['Ġthe']);
  });

  it('adds BOS/EOS only when the source asks for them', () => {
    const withMarkers = createTokenizer(tinyByteLevelSource({ addBosToken: true, addEosToken: true }));
    expect(Array.from(withMarkers.encode(' the'))).toEqual([1, tinyId('Ġthe'), 0]);
    expect(Array.from(withMarkers.encode(' the', { addSpecialTokens: false }))).toEqual([tinyId('Ġthe')]);
    expect(Array.from(tokenizer.encode(' the'))).toEqual([tinyId('Ġthe')]);
  });

  it('decodes multi-byte text and skips special tokens on request', () => {
    const text = 'é😀 the<|end|>';
    const ids = tokenizer.encode(text);
    expect(tokenizer.decode(ids)).toBe(text);
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('é😀 the');
    expect(tokenizer.decode([0, 1], { skipSpecialTokens: true })).toBe('');
  });

  it('lists end-of-generation ids with EOS first', () => {
    expect(tokenizer.eosTokenIds).toEqual([0]);
    const tokens = ['<|im_end|>', ...tinyByteLevelSource().tokens.slice(1)];
    const named = createTokenizer(tinyByteLevelSource({ tokens, eosTokenId: 2 }));
    expect(named.eosTokenIds).toEqual([2, 0]);
  });

  it('rejects bad ids and bad sources with typed errors', () => {
    expect(thrownCode(() => tokenizer.decode([0, tokenizer.vocabularySize]))).toBe('invalid-token-id');
    expect(thrownCode(() => tokenizer.decode([0.5]))).toBe('invalid-token-id');
    expect(thrownCode(() => tokenizer.tokenToString(-1))).toBe('invalid-token-id');
    expect(thrownCode(() => tokenizer.createStreamDecoder().push(1e9))).toBe('invalid-token-id');
    expect(thrownCode(() => createTokenizer(tinyByteLevelSource({ eosTokenId: 10_000 })))).toBe('invalid-tokenizer-source');
    expect(thrownCode(() => createTokenizer(tinyByteLevelSource({ tokens: [] })))).toBe('invalid-tokenizer-source');
    expect(thrownCode(() => createTokenizer(tinyByteLevelSource({ tokenTypes: [1, 1] })))).toBe('invalid-tokenizer-source');
    expect(thrownCode(() => createTokenizer(tinyByteLevelSource({ merges: undefined })))).toBe('missing-tokenizer-merges');
    expect(thrownCode(() => createTokenizer(tinyByteLevelSource({ merges: ['a b c'] })))).toBe('invalid-tokenizer-merges');
    expect(
      thrownCode(() => createTokenizer(tinyByteLevelSource({ modelKind: 'sentencepiece', architecture: 'llama' }))),
    ).toBe('unsupported-tokenizer-model');
  });

  it('keeps working after a rejected call', () => {
    const stream = tokenizer.createStreamDecoder();
    expect(stream.push(tinyId('Ġthe'))).toBe(' the');
    expect(thrownCode(() => stream.push(-5))).toBe('invalid-token-id');
    expect(stream.push(tinyId('Ġw'))).toBe(' w');
    expect(stream.flush()).toBe('');
  });

  it('renders a chat template with the special token names, and rejects a missing one', () => {
    const chat = createTokenizer(
      tinyByteLevelSource({
        chatTemplate:
          "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'bad' %}{{ raise_exception('no bad roles') }}{% endif %}" +
          "[{{ m['role'] }}]{{ m['content'] | trim }}{{ eos_token }}\n{% endfor %}" +
          '{% if add_generation_prompt %}[assistant]{% endif %}',
      }),
    );
    const messages = [
      { role: 'user', content: ' hi ' },
      { role: 'assistant', content: 'hello' },
    ];
    expect(chat.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|start|>[user]hi<|end|>\n[assistant]hello<|end|>\n[assistant]',
    );
    expect(chat.applyChatTemplate(messages, { addGenerationPrompt: false })).toBe(
      '<|start|>[user]hi<|end|>\n[assistant]hello<|end|>\n',
    );
    expect(thrownCode(() => chat.applyChatTemplate([{ role: 'bad', content: '' }], { addGenerationPrompt: false }))).toBe(
      'chat-template-failed',
    );
    expect(thrownCode(() => tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }))).toBe('missing-chat-template');
    const broken = createTokenizer(tinyByteLevelSource({ chatTemplate: '{% for %}' }));
    expect(thrownCode(() => broken.applyChatTemplate(messages, { addGenerationPrompt: true }))).toBe('invalid-chat-template');
  });
});
