import { QaqError } from '@qaq/errors';

/**
 * How the next token is chosen. Filters run in this order: repetition penalty → temperature → top-k → softmax →
 * min-p → top-p, then one draw from the seeded generator. Temperature 0 is greedy (argmax after the penalty).
 */
export interface SamplingOptions {
  /** 0 = greedy (the default, deterministic); otherwise logits are divided by it. */
  readonly temperature?: number;
  /** Keep only the k most likely tokens; 0 = off. */
  readonly topK?: number;
  /** Nucleus: the smallest set of most likely tokens whose mass reaches topP; 1 = off. */
  readonly topP?: number;
  /** Drop tokens whose probability is below minP × the top probability; 0 = off. */
  readonly minP?: number;
  /** CTRL-style penalty on recently seen tokens (positive logits divided, negative multiplied); 1 = off. */
  readonly repetitionPenalty?: number;
  /** How many recent tokens (prompt included) the penalty looks at. */
  readonly repetitionWindow?: number;
  /** Seed of the PRNG; same seed, model and options → same tokens. */
  readonly seed?: number;
}

export interface ResolvedSamplingOptions {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number;
  readonly repetitionPenalty: number;
  readonly repetitionWindow: number;
  readonly seed: number;
}

export const defaultSamplingOptions: ResolvedSamplingOptions = Object.freeze({
  temperature: 0,
  topK: 0,
  topP: 1,
  minP: 0,
  repetitionPenalty: 1,
  repetitionWindow: 64,
  seed: 0,
});

/** Validates every field before anything is allocated, so bad options never leave a half-built sampler. */
export function resolveSamplingOptions(options: SamplingOptions = {}): ResolvedSamplingOptions {
  const resolved: ResolvedSamplingOptions = { ...defaultSamplingOptions, ...stripUndefined(options) };
  const fail = (field: string, rule: string): never => {
    throw new QaqError('invalid-sampling-options', `sampling option ${field} ${rule}`, {
      details: { field, value: resolved[field as keyof ResolvedSamplingOptions] },
    });
  };
  if (!Number.isFinite(resolved.temperature) || resolved.temperature < 0) fail('temperature', 'must be finite and ≥ 0');
  if (!Number.isInteger(resolved.topK) || resolved.topK < 0) fail('topK', 'must be an integer ≥ 0');
  if (!(resolved.topP > 0 && resolved.topP <= 1)) fail('topP', 'must be in (0, 1]');
  if (!(resolved.minP >= 0 && resolved.minP < 1)) fail('minP', 'must be in [0, 1)');
  if (!Number.isFinite(resolved.repetitionPenalty) || resolved.repetitionPenalty <= 0) {
    fail('repetitionPenalty', 'must be finite and > 0');
  }
  if (!Number.isInteger(resolved.repetitionWindow) || resolved.repetitionWindow < 0) {
    fail('repetitionWindow', 'must be an integer ≥ 0');
  }
  if (!Number.isInteger(resolved.seed)) fail('seed', 'must be an integer');
  return resolved;
}

function stripUndefined(options: SamplingOptions): Partial<ResolvedSamplingOptions> {
  const result: Record<string, number> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) result[key] = value as number;
  }
  return result;
}
