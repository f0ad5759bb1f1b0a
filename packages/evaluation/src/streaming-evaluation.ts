import { QaqError } from '@qaq/errors';
import type { AbortSignalLike } from '@qaq/generation';
import type { KeyValueMemory, RuntimeLanguageModel } from '@qaq/runtime';
import { MetricAccumulator, type MetricSummary } from './metric-accumulator.js';
import { compareNextToken, referenceDistribution } from './next-token-comparison.js';
import { defaultStride, planEvaluationWindows, type EvaluationWindow } from './evaluation-windows.js';

export interface StreamingEvaluationOptions {
  /** The full-precision reference (fp32 cache), fed the same tokens. */
  readonly reference: RuntimeLanguageModel;
  /** The methods under test, run in lockstep with one reference pass. */
  readonly methods: readonly RuntimeLanguageModel[];
  readonly tokens: Int32Array;
  /** Tokens per window (what the cache holds at the end of each window). */
  readonly context: number;
  /** Window advance; default ⌊context / 2⌋. */
  readonly stride?: number;
  /** Prefixes are fed in chunks of at most this many tokens (default 512; the segmented path chunks further). */
  readonly prefillChunkSize?: number;
  readonly signal?: AbortSignalLike;
  /** Called after every scored position. */
  readonly onProgress?: (progress: EvaluationProgress) => void;
  /** Called after each window with the results so far (for long runs that should leave partial figures). */
  readonly onWindowEnd?: (partial: StreamingEvaluationResult) => void;
  /** A clock in milliseconds (default performance.now). */
  readonly now?: () => number;
  /**
   * The cache's memory is sampled after each of the last N decode steps of every window and averaged (default 128,
   * at most the window's scored tokens): a QAQ cache's size cycles with its plan cadence (the newest tokens wait at
   * their entry width until a plan), so one sample would land on a point of that cycle the cadence happens to put
   * there. 128 steps hold whole cycles of every preset's cadence.
   */
  readonly memorySampleSteps?: number;
}

/** Default StreamingEvaluationOptions.memorySampleSteps. */
export const defaultMemorySampleSteps = 128;

export interface EvaluationProgress {
  readonly scoredTokens: number;
  readonly totalScoredTokens: number;
  readonly window: number;
  readonly windowCount: number;
}

/** The cache's memory averaged over the samples: the last decode steps of every window (memorySampleSteps). */
export interface AveragedMemory {
  readonly bytes: number;
  readonly fp16Bytes: number;
  readonly elements: number;
  readonly bitsPerElement: number;
  /** The largest bits/element of any sample: the most the cache held per element at those steps. */
  readonly peakBitsPerElement: number;
  /** Of `bytes`, the QAQ policy's attention statistics (0 for fixed-width methods). */
  readonly policyBytes: number;
  /** How many samples (memorySampleSteps per window, or the window's scored tokens if fewer). */
  readonly samples: number;
}

export interface MethodEvaluation {
  readonly metrics: MetricSummary;
  readonly memory: AveragedMemory;
  /** Single-token forward() calls of the method (the scored tokens and each window's last token). */
  readonly decodeSteps: number;
  readonly decodeSeconds: number;
  readonly decodeTokensPerSecond: number;
  readonly prefillTokens: number;
  readonly prefillSeconds: number;
}

export interface StreamingEvaluationResult {
  readonly windows: readonly EvaluationWindow[];
  readonly stride: number;
  readonly methods: readonly MethodEvaluation[];
  readonly seconds: number;
}

function defaultNow(): number {
  return (globalThis as { performance?: { now(): number } }).performance?.now() ?? Date.now();
}

class MemoryAverage {
  #bytes = 0;
  #fp16Bytes = 0;
  #elements = 0;
  #bits = 0;
  #peakBits = 0;
  #policyBytes = 0;
  #samples = 0;
  add(memory: KeyValueMemory): void {
    this.#peakBits = Math.max(this.#peakBits, memory.bitsPerElement);
    this.#bytes += memory.bytes;
    this.#policyBytes += memory.policyBytes ?? 0;
    this.#fp16Bytes += memory.fp16Bytes;
    this.#elements += memory.elements;
    this.#bits += memory.bitsPerElement;
    this.#samples++;
  }
  result(): AveragedMemory {
    const samples = this.#samples;
    if (samples === 0) return { bytes: 0, fp16Bytes: 0, elements: 0, bitsPerElement: 0, peakBitsPerElement: 0, policyBytes: 0, samples };
    return {
      bytes: this.#bytes / samples,
      fp16Bytes: this.#fp16Bytes / samples,
      elements: this.#elements / samples,
      bitsPerElement: this.#bits / samples,
      peakBitsPerElement: this.#peakBits,
      policyBytes: this.#policyBytes / samples,
      samples,
    };
  }
}

/**
 * Teacher-forced streaming evaluation. For each window (see `planEvaluationWindows`): reset every model, prefill the
 * unscored prefix, then feed the scored tokens one at a time, so the methods' caches evolve exactly as in decoding
 * (QAQ's policy observes and re-plans at every step). Before each scored token is fed, the logits that predict it are
 * compared with the reference's (KL(reference ‖ method), top-1, −log p of the true token). The methods also get
 * the window's last token, so their caches hold the whole window at the last sample; the reference does not
 * need it. Memory is averaged over the last `memorySampleSteps` decode steps of each window. Decode time counts
 * only the methods' single-token forward() calls (memory sampling excluded).
 */
export async function evaluateStreaming(options: StreamingEvaluationOptions): Promise<StreamingEvaluationResult> {
  const { reference, methods, tokens, context } = options;
  if (methods.length === 0) throw new QaqError('invalid-evaluation', 'evaluateStreaming needs at least one method', { details: {} });
  const stride = options.stride ?? defaultStride(context);
  const windows = planEvaluationWindows(tokens.length, context, stride);
  const models = [reference, ...methods];
  if (new Set(models).size !== models.length) {
    throw new QaqError('invalid-evaluation', 'the reference and every method must be separate model instances', { details: { models: models.length } });
  }
  for (const model of models) {
    if (model.vocabularySize !== reference.vocabularySize) {
      throw new QaqError('vocabulary-mismatch', 'every model must share the reference vocabulary', {
        details: { reference: reference.vocabularySize, method: model.vocabularySize },
      });
    }
    if (context > model.contextLength) {
      throw new QaqError('context-too-long', `context ${context} exceeds the model's context window ${model.contextLength}`, {
        details: { context, contextLength: model.contextLength },
      });
    }
  }
  const now = options.now ?? defaultNow;
  const chunkSize = options.prefillChunkSize ?? 512;
  const memorySampleSteps = options.memorySampleSteps ?? defaultMemorySampleSteps;
  if (!Number.isInteger(memorySampleSteps) || memorySampleSteps < 1) {
    throw new QaqError('invalid-evaluation', 'memorySampleSteps must be a positive integer', { details: { memorySampleSteps } });
  }
  const vocabularySize = reference.vocabularySize;
  const referenceLogProbabilities = new Float64Array(vocabularySize);
  const scratch = new Float64Array(vocabularySize);
  const accumulators = methods.map(() => new MetricAccumulator());
  const memories = methods.map(() => new MemoryAverage());
  const decodeMilliseconds = new Float64Array(methods.length);
  const decodeSteps = new Float64Array(methods.length);
  const prefillMilliseconds = new Float64Array(methods.length);
  let prefillTokens = 0;
  const totalScoredTokens = tokens.length - 1;
  let scoredTokens = 0;
  const started = now();
  const one = new Int32Array(1);

  const checkAbort = (): void => {
    if (options.signal?.aborted === true) throw new QaqError('aborted', 'the evaluation was aborted', { details: { scoredTokens }, cause: options.signal.reason });
  };
  const prefill = async (model: RuntimeLanguageModel, prefix: Int32Array): Promise<Float32Array> => {
    let logits: Float32Array | null = null;
    for (let offset = 0; offset < prefix.length; offset += chunkSize) {
      checkAbort();
      logits = await model.forward(prefix.subarray(offset, Math.min(prefix.length, offset + chunkSize)), options.signal);
    }
    return logits as Float32Array;
  };

  const results = (windowsDone: number): StreamingEvaluationResult => {
    return {
      windows: windows.slice(0, windowsDone),
      stride,
      seconds: (now() - started) / 1000,
      methods: methods.map((_, index) => {
        const seconds = (decodeMilliseconds[index] as number) / 1000;
        const steps = decodeSteps[index] as number;
        return {
          metrics: (accumulators[index] as MetricAccumulator).summary(),
          memory: (memories[index] as MemoryAverage).result(),
          decodeSteps: steps,
          decodeSeconds: seconds,
          decodeTokensPerSecond: seconds > 0 ? steps / seconds : 0,
          prefillTokens,
          prefillSeconds: (prefillMilliseconds[index] as number) / 1000,
        };
      }),
    };
  };

  for (let windowIndex = 0; windowIndex < windows.length; windowIndex++) {
    const window = windows[windowIndex] as EvaluationWindow;
    for (const model of models) model.reset();
    const prefix = tokens.subarray(window.start, window.scoredFrom);
    let referenceDistributionNow = referenceDistribution(await prefill(reference, prefix), referenceLogProbabilities);
    const methodLogits: Float32Array[] = [];
    for (let index = 0; index < methods.length; index++) {
      const begin = now();
      methodLogits.push(await prefill(methods[index] as RuntimeLanguageModel, prefix));
      prefillMilliseconds[index] = (prefillMilliseconds[index] as number) + (now() - begin);
    }
    prefillTokens += prefix.length;
    for (let position = window.scoredFrom; position < window.end; position++) {
      checkAbort();
      const target = tokens[position] as number;
      for (let index = 0; index < methods.length; index++) {
        (accumulators[index] as MetricAccumulator).add(compareNextToken(referenceDistributionNow, methodLogits[index] as Float32Array, target, scratch));
      }
      scoredTokens++;
      options.onProgress?.({ scoredTokens, totalScoredTokens, window: windowIndex, windowCount: windows.length });
      one[0] = target;
      for (let index = 0; index < methods.length; index++) {
        const begin = now();
        methodLogits[index] = await (methods[index] as RuntimeLanguageModel).forward(one, options.signal);
        decodeMilliseconds[index] = (decodeMilliseconds[index] as number) + (now() - begin);
        decodeSteps[index] = (decodeSteps[index] as number) + 1;
      }
      if (position >= window.end - memorySampleSteps) {
        for (let index = 0; index < methods.length; index++) (memories[index] as MemoryAverage).add((methods[index] as RuntimeLanguageModel).memory());
      }
      if (position + 1 < window.end) {
        referenceDistributionNow = referenceDistribution(await reference.forward(one, options.signal), referenceLogProbabilities);
      }
    }
    if (windowIndex + 1 < windows.length) options.onWindowEnd?.(results(windowIndex + 1));
  }

  return results(windows.length);
}
