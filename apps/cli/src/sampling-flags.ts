import type { SamplingOptions } from '@qaq/generation';
import { numberOption } from './options.js';

/** The sampling flags shared by `generate` and `chat` (node:util parseArgs option descriptors). */
export const samplingFlags = {
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
} as const;

export function samplingFromFlags(values: {
  temperature?: string | undefined;
  'top-k'?: string | undefined;
  'top-p'?: string | undefined;
  seed?: string | undefined;
}): SamplingOptions {
  const temperature = numberOption('temperature', values.temperature, { minimum: 0, maximum: 100 }) ?? 0.7;
  const topK = numberOption('top-k', values['top-k'], { minimum: 0, integer: true }) ?? 40;
  const topP = numberOption('top-p', values['top-p'], { minimum: 0, maximum: 1 }) ?? 0.95;
  const seed = numberOption('seed', values.seed, { minimum: 0, maximum: 2 ** 32 - 1, integer: true }) ?? 42;
  return { temperature, topK, topP, seed };
}
