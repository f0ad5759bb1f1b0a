import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { BigramModel, chainTable, createAbortController, PieceTokenizer } from './fake-model.test-utils.js';
import { generate, generateText } from './generate.js';
import type { GenerationEvent, GenerationResult } from './generation-types.js';
import { SeededRandom } from './random.js';

const pieces = ['<eos>', 'Hel', 'lo', ',', ' wor', 'ld', '!', ' ', 'S', 'TOP', '\n'];
const eos = 0;
// Greedy decoding walks 1 → 2 → … → 10 → 0: "Hel" + "lo, world! STOP\n" then EOS.
const successor = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, eos];
const tokenizer = new PieceTokenizer(pieces, [eos]);

function chainModel(contextLength = 64): BigramModel {
  return new BigramModel(chainTable(successor), pieces.length, contextLength);
}

async function collect(
  iterator: AsyncGenerator<GenerationEvent, GenerationResult, undefined>,
  onEvent: (event: GenerationEvent) => void = () => {},
): Promise<{ events: GenerationEvent[]; result: GenerationResult }> {
  const events: GenerationEvent[] = [];
  for (;;) {
    const step = await iterator.next();
    if (step.done === true) return { events, result: step.value };
    events.push(step.value);
    onEvent(step.value);
  }
}

function streamedText(events: readonly GenerationEvent[]): string {
  return events.map((event) => (event.type === 'text' ? event.text : '')).join('');
}

async function errorCode(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return isQaqError(error) ? error.code : 'not-a-qaq-error';
  }
  return undefined;
}

describe('generate', () => {
  it('decodes greedily until EOS, streaming text that adds up to the result', async () => {
    const model = chainModel();
    const prompt = tokenizer.encode('Hel');
    const { events, result } = await collect(generate(model, tokenizer, prompt));
    expect(result.finishReason).toBe('eos');
    expect(result.text).toBe('lo, world! STOP\n');
    expect(streamedText(events)).toBe(result.text);
    expect(Array.from(result.tokenIds)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.filter((event) => event.type === 'token')).toHaveLength(10); // EOS is reported as a token
    expect(result.promptTokenCount).toBe(1);
    expect(model.forwardSizes).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(result.timings.decodeTokensPerSecond).toBeGreaterThan(0);
    expect(result.timings.prefillTokensPerSecond).toBeGreaterThan(0);
    expect(result.timings.timeToFirstTokenMilliseconds).toBeGreaterThanOrEqual(0);
  });

  it('ends at a stop string split across tokens without ever streaming part of it', async () => {
    for (const stopString of ['STOP', 'ld! S', '! ST']) {
      const { events, result } = await collect(
        generate(chainModel(), tokenizer, [1], { stopStrings: ['never', stopString] }),
      );
      const expected = 'lo, world! STOP\n'.slice(0, 'lo, world! STOP\n'.indexOf(stopString));
      expect(result.finishReason).toBe('stop-string');
      expect(result.stopString).toBe(stopString);
      expect(result.text).toBe(expected);
      expect(streamedText(events)).toBe(expected);
    }
  });

  it('stops at maxTokens and when the context is full', async () => {
    const limited = await generateText(chainModel(), tokenizer, [1], { maxTokens: 3 });
    expect(limited.finishReason).toBe('max-tokens');
    expect(limited.text).toBe('lo, wor');

    const model = chainModel(6);
    const full = await generateText(model, tokenizer, [1]);
    expect(full.finishReason).toBe('context-full');
    expect(full.text).toBe('lo, world! '); // 6 tokens: the last sampled one needs no cache slot
    expect(model.tokenCount).toBe(6);
  });

  it('keeps generating past EOS when stopAtEos is false', async () => {
    const result = await generateText(chainModel(), tokenizer, [1], { stopAtEos: false, maxTokens: 12 });
    expect(result.finishReason).toBe('max-tokens');
    expect(Array.from(result.tokenIds.subarray(8))).toEqual([10, eos, 1, 2]);
  });

  it('rejects a prompt longer than the context before touching the model', async () => {
    const model = chainModel(4);
    await model.forward(Int32Array.from([1, 2]));
    const code = await errorCode(() => generateText(model, tokenizer, [1, 2, 3, 4, 5]));
    expect(code).toBe('prompt-too-long');
    expect(await errorCode(() => generateText(model, tokenizer, [1, 2, 3], { continueCache: true }))).toBe(
      'prompt-too-long',
    );
    expect(await errorCode(() => generateText(model, tokenizer, [1], { maxTokens: 0 }))).toBe('invalid-max-tokens');
    expect(await errorCode(() => generateText(model, tokenizer, [99]))).toBe('invalid-token-id');
    expect(await errorCode(() => generateText(model, tokenizer, []))).toBe('empty-prompt');
    expect(model.tokenCount).toBe(2);
    expect(model.forwardSizes).toEqual([2]);
  });

  it('stops promptly when aborted between tokens', async () => {
    const controller = createAbortController();
    const model = chainModel();
    let tokens = 0;
    const { result } = await collect(generate(model, tokenizer, [1], { signal: controller.signal }), (event) => {
      if (event.type === 'token' && ++tokens === 2) controller.abort();
    });
    expect(result.finishReason).toBe('aborted');
    expect(result.text).toBe('lo,');
    expect(model.forwardSizes).toHaveLength(2); // prefill + one decode step, none after the abort
  });

  it('stops when aborted during a forward pass, and before starting', async () => {
    const controller = createAbortController();
    const model = chainModel();
    model.beforeForward = (callIndex, signal) =>
      callIndex < 3
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            signal?.addEventListener('abort', () => resolve(), { once: true });
            void Promise.resolve().then(() => controller.abort());
          });
    const result = await generateText(model, tokenizer, [1], { signal: controller.signal });
    expect(result.finishReason).toBe('aborted');
    expect(Array.from(result.tokenIds)).toEqual([2, 3, 4]);
    expect(model.tokenCount).toBe(3);

    const early = await generateText(chainModel(), tokenizer, [1], { signal: controller.signal });
    expect(early.finishReason).toBe('aborted');
    expect(early.tokenIds).toHaveLength(0);
  });

  it("releases held text when aborted, and stop strings completed by the decoder's final flush", async () => {
    const controller = createAbortController();
    const { events, result } = await collect(
      generate(chainModel(), tokenizer, [1], { stopStrings: ['STOPX'], signal: controller.signal }),
      (event) => {
        if (event.type === 'token' && event.tokenId === 8) controller.abort(); // 'S' is held as a possible 'STOPX'
      },
    );
    expect(result.finishReason).toBe('aborted');
    expect(result.text).toBe('lo, world! S');
    expect(streamedText(events)).toBe(result.text);

    // A decoder that lags one token behind (like one holding an incomplete UTF-8 sequence) flushes at EOS.
    const lagging = new PieceTokenizer(pieces, [eos]);
    lagging.createStreamDecoder = () => {
      let previous = '';
      return {
        push: (id) => {
          const out = previous;
          previous = id === eos ? '' : pieces[id]!;
          return out;
        },
        flush: () => previous,
      };
    };
    const plain = await generateText(chainModel(), lagging, [1]);
    expect(plain).toMatchObject({ finishReason: 'eos', text: 'lo, world! STOP\n' });
    const stopped = await generateText(chainModel(), lagging, [1], { stopStrings: ['P\n'] });
    expect(stopped).toMatchObject({ finishReason: 'stop-string', stopString: 'P\n', text: 'lo, world! STO' });
  });

  it('rethrows model errors that are not an abort', async () => {
    const model = chainModel();
    model.beforeForward = (callIndex) =>
      callIndex === 2 ? Promise.reject(new Error('device lost')) : Promise.resolve();
    await expect(generateText(model, tokenizer, [1])).rejects.toThrow('device lost');
  });

  it('prefills in chunks with progress events and the same outcome', async () => {
    const prompt = [1, 2, 3, 4, 5, 6, 7];
    const whole = chainModel();
    const chunked = chainModel();
    const reference = await generateText(whole, tokenizer, prompt);
    const { events, result } = await collect(generate(chunked, tokenizer, prompt, { prefillChunkSize: 3 }));
    expect(chunked.forwardSizes.slice(0, 3)).toEqual([3, 3, 1]);
    expect(whole.forwardSizes[0]).toBe(7);
    expect(events.filter((event) => event.type === 'prefill')).toEqual([
      { type: 'prefill', processedTokens: 3, promptTokenCount: 7 },
      { type: 'prefill', processedTokens: 6, promptTokenCount: 7 },
      { type: 'prefill', processedTokens: 7, promptTokenCount: 7 },
    ]);
    expect(result.text).toBe(reference.text);
    expect(result.text).toBe('STOP\n');
  });

  it('continues an existing cache when asked, resets it otherwise', async () => {
    const model = chainModel();
    await generateText(model, tokenizer, [1], { maxTokens: 2 });
    expect(model.tokenCount).toBe(2);
    await generateText(model, tokenizer, [4], { maxTokens: 2, continueCache: true });
    expect(model.tokenCount).toBe(4);
    await generateText(model, tokenizer, [4], { maxTokens: 2 });
    expect(model.tokenCount).toBe(2);
  });

  it('samples deterministically for a seed and differently for another', async () => {
    const random = new SeededRandom(99);
    const size = pieces.length;
    const table = Float32Array.from({ length: size * size }, () => random.nextFloat() * 3);
    const run = async (seed: number): Promise<number[]> => {
      const model = new BigramModel(table, size, 256);
      const result = await generateText(model, tokenizer, [1], {
        maxTokens: 60,
        stopAtEos: false,
        sampling: { temperature: 1, topK: 6, topP: 0.95, seed },
      });
      return Array.from(result.tokenIds);
    };
    const first = await run(5);
    expect(first).toHaveLength(60);
    expect(await run(5)).toEqual(first);
    expect(await run(6)).not.toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(3);
  });
});
