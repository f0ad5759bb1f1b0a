/** One inference engine under test, holding one model and one sequence. Token ids are the model's own. */
export interface BenchEngine {
  /** Settings that matter for the comparison (threads, cache type, attention kernel…). */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Evaluates `tokens` into the cache without sampling (the engine chunks as it needs). */
  prefill(tokens: Int32Array): Promise<void>;
  /** Evaluates one token and returns the greedy (argmax) next token. */
  decodeStep(token: number): Promise<number>;
  /** Empties the cache, keeping the loaded model. */
  reset(): Promise<void>;
  dispose(): Promise<void>;
}

export type EngineName = 'qaq' | 'llama.cpp';

export const engineNames: readonly EngineName[] = ['qaq', 'llama.cpp'];

/** Index of the largest value (first one on ties), as greedy decoding picks it. */
export function argmax(values: Float32Array): number {
  let best = 0;
  let bestValue = values[0] ?? Number.NEGATIVE_INFINITY;
  for (let index = 1; index < values.length; index++) {
    const value = values[index]!;
    if (value > bestValue) {
      bestValue = value;
      best = index;
    }
  }
  return best;
}
