import type { ProviderChoice, WeightChoice } from '../app-options.js';

/** One method's run on the measurement page (scripts/measure-context.ts sends it through page.evaluate). */
export interface MeasureRequest {
  readonly modelUrl: string;
  readonly kvMethod: string;
  readonly provider: ProviderChoice;
  readonly weights: WeightChoice;
  /** Real text's token ids, fed in order to grow the context. */
  readonly tokens: readonly number[];
  /** Context lengths at which memory() is read (fed chunks end exactly there). */
  readonly checkpoints: readonly number[];
  /** Prefill chunk fed per forward call. */
  readonly chunkSize: number;
  /** Greedy decode steps timed at the largest context reached. */
  readonly decodeSteps: number;
  /** Stop growing once this much time has passed (the context reached so far is reported). */
  readonly timeLimitMilliseconds: number;
}

export interface MeasurePoint {
  readonly contextTokens: number;
  readonly bytes: number;
  readonly slackBytes: number;
  readonly fp16Bytes: number;
  readonly elements: number;
  readonly bitsPerElement: number;
  /** Since the start of growing. */
  readonly elapsedMilliseconds: number;
}

export interface MeasureResult {
  readonly kvMethod: string;
  readonly provider: string | null;
  readonly contextLimit: number | null;
  readonly loadMilliseconds: number;
  readonly points: readonly MeasurePoint[];
  readonly decode: { readonly contextTokens: number; readonly steps: number; readonly tokensPerSecond: number } | null;
  /** Set when the method could not run (for example `kv-method-unavailable`). */
  readonly error: string | null;
  readonly userAgent: string;
}
