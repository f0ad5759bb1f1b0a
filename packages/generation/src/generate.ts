import { QaqError } from '@qaq/errors';
import type { CausalLanguageModel, GenerationTokenizer } from './causal-language-model.js';
import { nowMilliseconds } from './clock.js';
import type {
  FinishReason,
  GenerateOptions,
  GenerationEvent,
  GenerationResult,
  GenerationTimings,
} from './generation-types.js';
import { Sampler } from './sampler.js';
import { StopStringMatcher } from './stop-string-matcher.js';

/**
 * Prefill then decode, streaming events. Returns (as the generator's return value) the full result with the reason
 * generation ended. Cancellation through `signal` is not an error: the result says 'aborted'.
 * All validation happens before the model is touched, so bad input never disturbs its cache.
 */
export async function* generate(
  model: CausalLanguageModel,
  tokenizer: GenerationTokenizer,
  promptIds: Int32Array | readonly number[],
  options: GenerateOptions = {},
): AsyncGenerator<GenerationEvent, GenerationResult, undefined> {
  const prompt = Int32Array.from(promptIds);
  const plan = planGeneration(model, prompt, options);
  const sampler = new Sampler(model.vocabularySize, options.sampling);
  const matcher = new StopStringMatcher(options.stopStrings ?? []);
  const decoder = tokenizer.createStreamDecoder();
  const eosTokenIds = options.stopAtEos === false ? [] : tokenizer.eosTokenIds;
  const signal = options.signal;
  const generated = new Int32Array(plan.tokenCapacity);
  const stepInput = new Int32Array(1);
  let generatedCount = 0;
  let text = '';
  let stopString: string | undefined;
  let prefillMilliseconds = 0;
  let decodeMilliseconds = 0;
  let timeToFirstTokenMilliseconds = 0;

  const finish = (finishReason: FinishReason): GenerationResult => {
    const timings: GenerationTimings = {
      prefillMilliseconds,
      decodeMilliseconds,
      prefillTokensPerSecond: rate(prompt.length, prefillMilliseconds),
      decodeTokensPerSecond: rate(generatedCount, decodeMilliseconds),
      timeToFirstTokenMilliseconds,
    };
    return {
      text,
      tokenIds: generated.slice(0, generatedCount),
      finishReason,
      ...(stopString === undefined ? {} : { stopString }),
      promptTokenCount: prompt.length,
      timings,
    };
  };

  /** Releases what the decoder and the stop matcher still hold; true when that completes a stop string. */
  function* drain(): Generator<GenerationEvent, boolean, undefined> {
    const rest = releaseAtEnd(decoder.flush(), matcher);
    if (rest.text.length > 0) {
      text += rest.text;
      yield { type: 'text', text: rest.text };
    }
    if (rest.stopString === undefined) return false;
    stopString = rest.stopString;
    return true;
  }

  if (signal?.aborted) return finish('aborted');
  if (!options.continueCache) model.reset();
  const windowStart = Math.max(0, prompt.length - sampler.options.repetitionWindow);
  for (let position = windowStart; position < prompt.length; position++) sampler.observe(prompt[position]!);

  let logits: Float32Array | undefined;
  const prefillStart = nowMilliseconds();
  try {
    for (let start = 0; start < prompt.length; start += plan.prefillChunkSize) {
      if (signal?.aborted) return finish('aborted');
      const chunkStart = nowMilliseconds();
      logits = await model.forward(prompt.subarray(start, start + plan.prefillChunkSize), signal);
      prefillMilliseconds += nowMilliseconds() - chunkStart;
      if (plan.prefillChunkSize < prompt.length) {
        yield {
          type: 'prefill',
          processedTokens: Math.min(prompt.length, start + plan.prefillChunkSize),
          promptTokenCount: prompt.length,
        };
      }
    }
  } catch (error) {
    if (signal?.aborted) return finish('aborted');
    throw error;
  }

  if (logits === undefined) throw new QaqError('empty-prompt', 'no logits after the prefill');
  let stepStart = nowMilliseconds();
  for (;;) {
    if (signal?.aborted) {
      yield* drain();
      return finish('aborted');
    }
    const tokenId = sampler.sample(logits);
    if (generatedCount === 0) timeToFirstTokenMilliseconds = nowMilliseconds() - prefillStart;
    decodeMilliseconds += nowMilliseconds() - stepStart;
    yield { type: 'token', tokenId };

    if (eosTokenIds.includes(tokenId)) return finish((yield* drain()) ? 'stop-string' : 'eos');
    generated[generatedCount++] = tokenId;
    sampler.observe(tokenId);
    const step = matcher.push(decoder.push(tokenId));
    if (step.text.length > 0) {
      text += step.text;
      yield { type: 'text', text: step.text };
    }
    if (step.stopString !== undefined) {
      stopString = step.stopString;
      return finish('stop-string');
    }

    const contextFull = generatedCount >= plan.tokenCapacity || model.tokenCount >= model.contextLength;
    const limitReason: FinishReason | undefined =
      generatedCount >= plan.maxTokens ? 'max-tokens' : contextFull ? 'context-full' : undefined;
    if (limitReason !== undefined) return finish((yield* drain()) ? 'stop-string' : limitReason);

    if (signal?.aborted) {
      yield* drain();
      return finish('aborted');
    }
    stepStart = nowMilliseconds();
    stepInput[0] = tokenId;
    try {
      logits = await model.forward(stepInput, signal);
    } catch (error) {
      if (!signal?.aborted) throw error;
      yield* drain();
      return finish('aborted');
    }
  }
}

/** Runs `generate` to the end and returns only the result (for callers that do not stream). */
export async function generateText(
  model: CausalLanguageModel,
  tokenizer: GenerationTokenizer,
  promptIds: Int32Array | readonly number[],
  options: GenerateOptions = {},
): Promise<GenerationResult> {
  const iterator = generate(model, tokenizer, promptIds, options);
  for (;;) {
    const step = await iterator.next();
    if (step.done === true) return step.value;
  }
}

interface GenerationPlan {
  readonly maxTokens: number;
  readonly tokenCapacity: number;
  readonly prefillChunkSize: number;
}

function planGeneration(model: CausalLanguageModel, prompt: Int32Array, options: GenerateOptions): GenerationPlan {
  if (prompt.length === 0) {
    throw new QaqError('empty-prompt', 'generation needs at least one prompt token');
  }
  for (let position = 0; position < prompt.length; position++) {
    const tokenId = prompt[position]!;
    if (tokenId < 0 || tokenId >= model.vocabularySize) {
      throw new QaqError('invalid-token-id', 'prompt token id outside the vocabulary', {
        details: { position, tokenId, vocabularySize: model.vocabularySize },
      });
    }
  }
  const cachedTokens = options.continueCache ? model.tokenCount : 0;
  const available = model.contextLength - cachedTokens;
  if (prompt.length > available) {
    throw new QaqError('prompt-too-long', 'the prompt does not fit in the model context', {
      details: { promptTokenCount: prompt.length, cachedTokens, contextLength: model.contextLength },
    });
  }
  // The last sampled token is never fed back, so a full context still yields one more token.
  const contextLimit = available - prompt.length + 1;
  const maxTokens = options.maxTokens ?? Number.POSITIVE_INFINITY;
  if (options.maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw new QaqError('invalid-max-tokens', 'maxTokens must be an integer ≥ 1', { details: { maxTokens } });
  }
  const prefillChunkSize = options.prefillChunkSize ?? prompt.length;
  if (!Number.isInteger(prefillChunkSize) || prefillChunkSize < 1) {
    throw new QaqError('invalid-prefill-chunk-size', 'prefillChunkSize must be an integer ≥ 1', {
      details: { prefillChunkSize },
    });
  }
  return { maxTokens, tokenCapacity: Math.min(maxTokens, contextLimit), prefillChunkSize };
}

/** Text the decoder still held, passed through the matcher one last time, then the matcher's held text. */
function releaseAtEnd(
  decoderRest: string,
  matcher: StopStringMatcher,
): { text: string; stopString: string | undefined } {
  const step = matcher.push(decoderRest);
  if (step.stopString !== undefined) return step;
  return { text: step.text + matcher.flush(), stopString: undefined };
}

function rate(tokens: number, milliseconds: number): number {
  return milliseconds > 0 ? (tokens * 1000) / milliseconds : 0;
}
