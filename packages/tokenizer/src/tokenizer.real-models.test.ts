import { isQaqError } from '@qaq/errors';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatTemplate } from './chat-template.js';
import { modelFixture, sampleTextFixture, type ModelFixture } from './fixtures.test-utils.js';
import { modelAvailable, modelPath, readGgufMetadata, type ModelName } from './gguf-files.test-utils.js';
import { tokenizerSourceFromGgufMetadata } from './gguf-metadata.js';
import { createTokenizer, type Tokenizer } from './tokenizer.js';
import type { TokenizerSource } from './tokenizer-source.js';

// Expected values come from Hugging Face transformers (scripts/make-fixtures.py), never from this code.
const sample = sampleTextFixture();
const expectedEndOfGeneration: Record<ModelName, readonly string[]> = {
  'smollm2-135m': ['<|im_end|>', '<|endoftext|>'],
  'gemma3-270m': ['<eos>', '<end_of_turn>'],
};

function thrownCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return isQaqError(error) ? error.code : `not a QaqError: ${String(error)}`;
  }
  return undefined;
}

describe.each(['smollm2-135m', 'gemma3-270m'] as const)('%s against Hugging Face transformers', (model) => {
  const available = modelAvailable(model);
  let source: TokenizerSource;
  let tokenizer: Tokenizer;
  let fixture: ModelFixture;

  beforeAll(() => {
    if (!available) return;
    fixture = modelFixture(model);
    source = tokenizerSourceFromGgufMetadata(readGgufMetadata(modelPath(model)));
    tokenizer = createTokenizer(source);
  });

  it.runIf(available)('uses a sample of several thousand words', () => {
    expect(sample.words).toBeGreaterThan(4000);
    expect(fixture.sample.idsWithSpecialTokens.length).toBeGreaterThan(7000);
  });

  it.runIf(available)('encodes the whole sample to the same ids, with and without special tokens', () => {
    expect(Array.from(tokenizer.encode(sample.sample))).toEqual(fixture.sample.idsWithSpecialTokens);
    expect(Array.from(tokenizer.encode(sample.sample, { addSpecialTokens: false }))).toEqual(
      fixture.sample.idsWithoutSpecialTokens,
    );
  });

  it.runIf(available)('encodes each excerpt on its own to the same ids', () => {
    sample.parts.forEach((part, index) => {
      expect(Array.from(tokenizer.encode(part.text, { addSpecialTokens: false })), part.source).toEqual(fixture.parts[index]);
    });
  });

  it.runIf(available)('encodes edge cases (empty, spaces, special tokens in the text, unicode) the same', () => {
    for (const edgeCase of fixture.edgeCases) {
      expect(Array.from(tokenizer.encode(edgeCase.text)), JSON.stringify(edgeCase.text)).toEqual(edgeCase.ids);
      expect(Array.from(tokenizer.encode(edgeCase.text, { addSpecialTokens: false })), JSON.stringify(edgeCase.text)).toEqual(
        edgeCase.idsWithoutSpecialTokens,
      );
    }
  });

  it.runIf(available)('decodes like Hugging Face and round-trips text', () => {
    expect(tokenizer.decode(fixture.sample.idsWithoutSpecialTokens)).toBe(fixture.sample.decoded);
    expect(tokenizer.decode(tokenizer.encode(sample.sample, { addSpecialTokens: false }))).toBe(sample.sample);
    let roundTrips = 0;
    for (const edgeCase of fixture.edgeCases) {
      const decoded = tokenizer.decode(tokenizer.encode(edgeCase.text, { addSpecialTokens: false }));
      expect(decoded, JSON.stringify(edgeCase.text)).toBe(edgeCase.decoded);
      if (decoded === edgeCase.text) roundTrips++;
    }
    // Only Gemma's text with a literal "▁" does not come back (spaces and "▁" share one token spelling).
    expect(roundTrips).toBeGreaterThanOrEqual(fixture.edgeCases.length - 1);
    expect(tokenizer.decode(fixture.decodeMixed.ids)).toBe(fixture.decodeMixed.text);
    expect(tokenizer.decode(fixture.decodeMixed.ids, { skipSpecialTokens: true })).toBe(
      fixture.decodeMixed.textSkippingSpecialTokens,
    );
    expect(tokenizer.decode([])).toBe('');
  });

  it.runIf(available)('streams the sample in pieces that add up to the full decode, never splitting a character', () => {
    const stream = tokenizer.createStreamDecoder();
    const pieces: string[] = [];
    for (const id of fixture.sample.idsWithoutSpecialTokens) pieces.push(stream.push(id));
    pieces.push(stream.flush());
    expect(pieces.join('')).toBe(sample.sample);
    for (const piece of pieces) {
      expect(piece).not.toContain('\uFFFD');
      expect(piece).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
  });

  it.runIf(available)('holds back the bytes of a character spread over several tokens', () => {
    const character = '\u{10FFFD}'; // private use: no vocabulary has it, so it is spelled in bytes
    const ids = tokenizer.encode(character, { addSpecialTokens: false });
    expect(ids.length).toBeGreaterThan(1);
    const stream = tokenizer.createStreamDecoder();
    const pieces = Array.from(ids, (id) => stream.push(id));
    expect(pieces.slice(0, -1).every((piece) => piece === '')).toBe(true);
    expect(pieces.at(-1)).toBe(character);
    // An incomplete character left at the end comes out on flush, as U+FFFD, and the stream starts afresh.
    const first = ids[0] as number;
    expect(stream.push(first)).toBe('');
    expect(stream.flush()).toContain('\uFFFD');
    expect(stream.push(ids[0] as number) + Array.from(ids.subarray(1), (id) => stream.push(id)).join('')).toBe(character);
  });

  it.runIf(available)('skips special tokens in a stream when asked', () => {
    const stream = tokenizer.createStreamDecoder({ skipSpecialTokens: true });
    const text = fixture.decodeMixed.ids.map((id) => stream.push(id)).join('') + stream.flush();
    expect(text).toBe(fixture.decodeMixed.textSkippingSpecialTokens);
  });

  it.runIf(available)('reports the vocabulary, special ids and token strings', () => {
    expect(tokenizer.vocabularySize).toBe(fixture.vocabularySize);
    expect(tokenizer.bosTokenId).toBe(fixture.bosTokenId);
    expect(tokenizer.eosTokenIds[0]).toBe(fixture.eosTokenId);
    expect(tokenizer.eosTokenIds.map((id) => tokenizer.tokenToString(id))).toEqual(expectedEndOfGeneration[model]);
    for (const [id, text] of Object.entries(fixture.tokenStrings)) expect(tokenizer.tokenToString(Number(id))).toBe(text);
    expect(tokenizer.isSpecialToken(fixture.eosTokenId)).toBe(true);
    expect(tokenizer.isSpecialToken(fixture.sample.idsWithoutSpecialTokens[0] as number)).toBe(false);
    expect(thrownCode(() => tokenizer.tokenToString(tokenizer.vocabularySize))).toBe('invalid-token-id');
    expect(thrownCode(() => tokenizer.decode([1, -1]))).toBe('invalid-token-id');
  });

  it.runIf(available)('renders the chat template like apply_chat_template, or says there is none', () => {
    expect(tokenizer.hasChatTemplate).toBe(fixture.chat.length > 0);
    if (fixture.chat.length === 0) {
      expect(thrownCode(() => tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }))).toBe(
        'missing-chat-template',
      );
    }
    for (const chat of fixture.chat) {
      expect(tokenizer.applyChatTemplate(chat.messages, { addGenerationPrompt: true })).toBe(chat.withGenerationPrompt);
      expect(tokenizer.applyChatTemplate(chat.messages, { addGenerationPrompt: false })).toBe(chat.withoutGenerationPrompt);
    }
  });

  it.runIf(available)('renders a Gemma-style template like transformers does', () => {
    const external = fixture.externalChatTemplate;
    if (external === null) return;
    // The tokenizer hands the template its special token names; the tiny-vocabulary tests cover that wiring.
    const template = new ChatTemplate(external.template, { bos_token: tokenizer.tokenToString(tokenizer.bosTokenId ?? -1) });
    for (const chat of external.cases) {
      expect(template.render(chat.messages, { addGenerationPrompt: true })).toBe(chat.withGenerationPrompt);
    }
    for (const messages of external.rejected) {
      expect(thrownCode(() => template.render(messages, { addGenerationPrompt: false }))).toBe('chat-template-failed');
    }
  });
});
