import { QaqError } from '@qaq/errors';
import type { AbortSignalLike } from '@qaq/generation';
import type { RuntimeLanguageModel } from '@qaq/runtime';
import { argmax } from './log-softmax.js';
import { buildPasskeyPrompt, extractPasskeyAnswer, passkeyFromSeed, type PasskeyTokenizer } from './passkey-prompt.js';

export interface PasskeyEvaluationOptions {
  readonly model: RuntimeLanguageModel;
  readonly tokenizer: PasskeyTokenizer & { readonly eosTokenIds?: readonly number[] };
  readonly fillerTokens: Int32Array;
  readonly lengths: readonly number[];
  readonly depths: readonly number[];
  /** Prompts per (length, depth), each with its own key (default 1). */
  readonly trials?: number;
  /** Seeds the keys; the same seed gives every method the same prompts (default 0). */
  readonly seed?: number;
  /** Greedy tokens generated after the question (default 8). */
  readonly maxNewTokens?: number;
  /** Prompts are fed in chunks of at most this many tokens (default 512). */
  readonly prefillChunkSize?: number;
  readonly signal?: AbortSignalLike;
  readonly onTrial?: (trial: PasskeyTrial) => void;
}

export interface PasskeyTrial {
  readonly length: number;
  readonly depth: number;
  readonly trial: number;
  readonly passkey: string;
  readonly answer: string | null;
  readonly generated: string;
  readonly correct: boolean;
}

export interface PasskeyCell {
  readonly length: number;
  readonly depth: number;
  readonly trials: number;
  readonly correct: number;
  readonly accuracy: number;
}

export interface PasskeyEvaluation {
  readonly cells: PasskeyCell[];
  readonly trials: PasskeyTrial[];
  readonly accuracy: number;
}

/** The key of trial `trial` at (length, depth): a function of the seed and the cell only. */
export function passkeyForTrial(seed: number, length: number, depth: number, trial: number): string {
  return passkeyFromSeed(((seed * 1_000_003 + length) * 1009 + Math.round(depth * 1000)) * 31 + trial);
}

/**
 * Passkey retrieval through one model's cache: for every length × depth × trial, reset, prefill the prompt
 * (`buildPasskeyPrompt`), greedily generate up to `maxNewTokens` (stopping at an end token or a newline after the
 * answer) and score an exact match of the first number generated.
 */
export async function evaluatePasskey(options: PasskeyEvaluationOptions): Promise<PasskeyEvaluation> {
  const { model, tokenizer, fillerTokens, lengths, depths } = options;
  const trialCount = options.trials ?? 1;
  const seed = options.seed ?? 0;
  const maxNewTokens = options.maxNewTokens ?? 8;
  const chunkSize = options.prefillChunkSize ?? 512;
  if (!Number.isInteger(trialCount) || trialCount < 1) throw new QaqError('invalid-passkey', 'trials must be a positive integer', { details: { trials: trialCount } });
  for (const length of lengths) {
    if (length + maxNewTokens > model.contextLength) {
      throw new QaqError('context-too-long', `passkey length ${length} (+${maxNewTokens} new tokens) exceeds the context window ${model.contextLength}`, {
        details: { length, contextLength: model.contextLength },
      });
    }
  }
  const endTokens = new Set(options.tokenizer.eosTokenIds ?? []);
  const cells: PasskeyCell[] = [];
  const trials: PasskeyTrial[] = [];
  const one = new Int32Array(1);
  for (const length of lengths) {
    for (const depth of depths) {
      let correct = 0;
      for (let trial = 0; trial < trialCount; trial++) {
        const passkey = passkeyForTrial(seed, length, depth, trial);
        const prompt = buildPasskeyPrompt({ tokenizer, fillerTokens, length, depth, passkey });
        model.reset();
        let logits: Float32Array | null = null;
        for (let offset = 0; offset < prompt.tokens.length; offset += chunkSize) {
          if (options.signal?.aborted === true) throw new QaqError('aborted', 'the passkey evaluation was aborted', { details: {} });
          logits = await model.forward(prompt.tokens.subarray(offset, Math.min(prompt.tokens.length, offset + chunkSize)), options.signal);
        }
        const generatedIds: number[] = [];
        for (let step = 0; step < maxNewTokens; step++) {
          const next = argmax(logits as Float32Array);
          if (endTokens.has(next)) break;
          generatedIds.push(next);
          const text = tokenizer.decode(generatedIds);
          // Stop once a number is complete (a non-digit follows it) or a line ends after one.
          if (/\d+\D/.test(text) || (text.includes('\n') && /\d/.test(text))) break;
          if (step + 1 < maxNewTokens) {
            one[0] = next;
            logits = await model.forward(one, options.signal);
          }
        }
        const generated = tokenizer.decode(generatedIds);
        const answer = extractPasskeyAnswer(generated);
        const isCorrect = answer === passkey;
        if (isCorrect) correct++;
        const result: PasskeyTrial = { length, depth, trial, passkey, answer, generated, correct: isCorrect };
        trials.push(result);
        options.onTrial?.(result);
      }
      cells.push({ length, depth, trials: trialCount, correct, accuracy: correct / trialCount });
    }
  }
  const total = trials.length;
  return { cells, trials, accuracy: total === 0 ? 0 : trials.filter((trial) => trial.correct).length / total };
}
