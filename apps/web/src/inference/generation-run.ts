import { generate, type GenerationResult, type SamplingOptions } from '@qaq/generation';
import type { KeyValueMemory } from '@qaq/runtime';
import { encodePrompt } from './encode-prompt.js';
import type { ModelSession } from './model-session.js';
import { ThroughputMeter } from './throughput-meter.js';

/** What the live panel shows after each token. */
export interface LiveReadout {
  readonly memory: KeyValueMemory;
  /** Tokens in the KV cache. */
  readonly contextTokens: number;
  readonly contextLimit: number;
  readonly decodeTokensPerSecond: number | null;
  readonly generatedTokens: number;
  /** The provider the sessions really run on. */
  readonly provider: string;
}

export interface GenerationRunOptions {
  readonly prompt: string;
  readonly maxTokens: number;
  readonly sampling: SamplingOptions;
  readonly signal: AbortSignal;
  readonly onText: (text: string) => void;
  readonly onReadout: (readout: LiveReadout) => void;
}

/** Streams one generation, reporting memory (from the runtime's `memory()`) and speed after every token. */
export async function runGeneration(session: ModelSession, options: GenerationRunOptions): Promise<GenerationResult> {
  const { model } = session.loaded;
  const promptIds = encodePrompt(session.tokenizer, options.prompt);
  const meter = new ThroughputMeter();
  let generatedTokens = 0;
  const readout = (): LiveReadout => ({
    memory: model.memory(),
    contextTokens: model.tokenCount,
    contextLimit: model.contextLength,
    decodeTokensPerSecond: meter.tokensPerSecond,
    generatedTokens,
    provider: model.provider,
  });
  const iterator = generate(model, session.tokenizer, promptIds, {
    maxTokens: options.maxTokens,
    sampling: options.sampling,
    signal: options.signal,
  });
  for (;;) {
    const step = await iterator.next();
    if (step.done === true) {
      options.onReadout(readout());
      return step.value;
    }
    const event = step.value;
    if (event.type === 'token') {
      generatedTokens++;
      meter.tick();
      options.onReadout(readout());
    } else if (event.type === 'text') {
      options.onText(event.text);
    }
  }
}
