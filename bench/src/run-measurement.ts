import type { BenchEngine } from './bench-engine.js';

export interface Measurement {
  /** Tokens evaluated by the timed prefill (the context minus the token the first decode step evaluates). */
  readonly prefillTokens: number;
  readonly prefillSeconds: number;
  readonly prefillTokensPerSecond: number;
  readonly decodeSteps: number;
  readonly decodeSeconds: number;
  readonly decodeTokensPerSecond: number;
  /** Median milliseconds of one decode step. */
  readonly decodeMedianMilliseconds: number;
  /** The greedy tokens decoded, to compare engines' outputs. */
  readonly decodedTokens: readonly number[];
}

/**
 * Warms the engine up on a short prefix (first-run allocations and kernel choices are not what we measure), resets
 * it, then prefills `context` minus its last token and decodes `decodeSteps` tokens greedily, the first step
 * evaluating that last context token.
 */
export async function runMeasurement(engine: BenchEngine, context: Int32Array, decodeSteps: number): Promise<Measurement> {
  const warmup = context.subarray(0, Math.min(64, context.length - 1));
  await engine.prefill(warmup);
  await engine.decodeStep(context[warmup.length]!);
  await engine.decodeStep(context[warmup.length + 1]!);
  await engine.reset();

  const prefill = context.subarray(0, context.length - 1);
  const prefillStart = performance.now();
  await engine.prefill(prefill);
  const prefillSeconds = (performance.now() - prefillStart) / 1000;

  const stepMilliseconds: number[] = [];
  const decodedTokens: number[] = [];
  let token = context[context.length - 1]!;
  for (let step = 0; step < decodeSteps; step++) {
    const started = performance.now();
    token = await engine.decodeStep(token);
    stepMilliseconds.push(performance.now() - started);
    decodedTokens.push(token);
  }
  const decodeSeconds = stepMilliseconds.reduce((sum, value) => sum + value, 0) / 1000;
  const sorted = [...stepMilliseconds].sort((a, b) => a - b);
  return {
    prefillTokens: prefill.length,
    prefillSeconds,
    prefillTokensPerSecond: prefill.length / prefillSeconds,
    decodeSteps,
    decodeSeconds,
    decodeTokensPerSecond: decodeSteps / decodeSeconds,
    decodeMedianMilliseconds: sorted[Math.floor(sorted.length / 2)] ?? 0,
    decodedTokens,
  };
}
