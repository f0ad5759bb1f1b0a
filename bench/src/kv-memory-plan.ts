/**
 * What `bench/kv-memory.ts` measures without `--run`: issue #4's contexts, SmolLM2 at 2k and 8k and Gemma 3 at 8k with
 * every method, and Gemma 3 at 32k with the methods that matter there (QAQ, whose row also carries the
 * fp16-equivalent bytes, and KIVI-2, skipped beyond --kivi-max-context) — a 32k prefill per method is long on 2 cores.
 */
export const defaultPlanSpecs: readonly string[] = Object.freeze([
  'smollm2-135m=2048,8192',
  'gemma3-270m=8192',
  'gemma3-270m=32768/qaq kivi:2',
]);

/** One model with the contexts to measure and, optionally, its own methods (else the run's methods). */
export interface KvMemoryPlanEntry {
  readonly model: string;
  readonly contexts: readonly number[];
  readonly methods: readonly string[] | null;
}

/**
 * Parses a run spec `<model>=<context>[,<context>…][/<method> <method>…]`, e.g. `smollm2-135m=2048,8192` or
 * `gemma3-270m=32768/fp32 qaq`. Methods are separated by spaces because a method's own text may hold commas
 * (`qaq:sk=0.003,sv=0.01`).
 */
export function parsePlanEntry(spec: string): KvMemoryPlanEntry {
  const equals = spec.indexOf('=');
  if (equals <= 0) throw new Error(`run spec must be <model>=<contexts>[/<methods>], got "${spec}"`);
  const model = spec.slice(0, equals).trim();
  const rest = spec.slice(equals + 1);
  const slash = rest.indexOf('/');
  const contextText = slash < 0 ? rest : rest.slice(0, slash);
  const contexts = contextText.split(',').map((text) => {
    const value = Number(text.trim());
    if (!Number.isSafeInteger(value) || value < 2) throw new Error(`run spec "${spec}": context must be an integer ≥ 2, got "${text}"`);
    return value;
  });
  const methods = slash < 0 ? null : splitMethods(rest.slice(slash + 1));
  if (methods !== null && methods.length === 0) throw new Error(`run spec "${spec}": no method after "/"`);
  return { model, contexts, methods };
}

/** Space-separated KV methods. */
export function splitMethods(text: string): string[] {
  return text.split(/\s+/).filter((item) => item !== '');
}
