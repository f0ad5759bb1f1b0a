import type { Backend, SessionOptions } from '@qaq/backend-spec';
import type { AbortSignalLike } from '@qaq/generation';
import {
  loadLanguageModel,
  parseKvMethod,
  type KvMethod,
  type LoadedLanguageModel,
  type LoadLanguageModelOptions,
  type RuntimeLanguageModel,
} from '@qaq/runtime';
import { readBitWidthMap, type BitWidthMap } from './bit-width-map.js';
import { contractRecord } from './contract-record.js';
import type { EvaluationRecord } from './evaluation-record.js';
import { evaluateStreaming, type EvaluationProgress, type MethodEvaluation, type StreamingEvaluationResult } from './streaming-evaluation.js';

export interface EvaluateMethodsOptions {
  readonly backend: Backend;
  /** The whole GGUF file. */
  readonly gguf: Uint8Array;
  /** Methods as text (`uniform:4`, `qaq:compact`, …) or parsed. */
  readonly methods: readonly (string | KvMethod)[];
  /** The text's token ids (BOS included when the model uses one). */
  readonly tokens: Int32Array;
  readonly context: number;
  readonly stride?: number;
  /** Model name for the records. */
  readonly modelName: string;
  /** Text name for the records. */
  readonly textName?: string;
  readonly session?: SessionOptions;
  /** An fp32 model to reuse as the reference (else one is loaded and disposed). */
  readonly reference?: RuntimeLanguageModel;
  /** Host hook for `peak_rss_bytes` (Node: process.resourceUsage().maxRSS * 1024), read after the run. */
  readonly peakResidentBytes?: () => number;
  /** Also read each method's bit-width map at the end (null for caches without tags). */
  readonly bitWidthMaps?: boolean;
  readonly signal?: AbortSignalLike;
  readonly onProgress?: (progress: EvaluationProgress) => void;
  /** After each window but the last: the records so far (`tokens` = tokens covered so far). */
  readonly onPartialRecords?: (records: EvaluationRecord[]) => void;
  /** Load progress, e.g. for a log line. */
  readonly onLoaded?: (methodName: string) => void;
  /**
   * The attention kernel of each method's model (e.g. Node's threaded kernel); undefined, or a hook returning
   * undefined: the runtime's default. Each model owns (and disposes) the kernel it gets.
   */
  readonly createAttentionKernel?: (method: KvMethod) => Promise<LoadLanguageModelOptions['kernel']>;
}

export interface MethodsEvaluation {
  readonly records: EvaluationRecord[];
  /** Per method, in order, when `bitWidthMaps` was asked for. */
  readonly bitWidthMaps: (BitWidthMap | null)[];
}

export interface EvaluateMethodOptions extends Omit<EvaluateMethodsOptions, 'methods'> {
  readonly method: string | KvMethod;
}

function toRecord(
  loaded: LoadedLanguageModel,
  evaluation: MethodEvaluation,
  options: EvaluateMethodsOptions,
  shared: { windows: number; stride: number; seconds: number; tokens: number },
): EvaluationRecord {
  return contractRecord({
    model: options.modelName,
    method: loaded.methodName,
    tokens: shared.tokens,
    context: options.context,
    stride: shared.stride,
    windows: shared.windows,
    seconds: shared.seconds,
    evaluation,
    peakResidentBytes: options.peakResidentBytes?.() ?? null,
    text: options.textName ?? null,
    qaqSettings: loaded.method.kind === 'qaq' ? loaded.method.settings : null,
    provider: loaded.model.provider,
  });
}

/**
 * Loads every method (and the fp32 reference unless given) on one backend and evaluates them in lockstep over
 * the same windows with one reference pass (`evaluateStreaming`). Disposes what it loaded.
 */
export async function evaluateMethods(options: EvaluateMethodsOptions): Promise<MethodsEvaluation> {
  const parsed = options.methods.map((method) => (typeof method === 'string' ? parseKvMethod(method) : method));
  const load = async (kv: KvMethod): Promise<LoadedLanguageModel> => {
    const kernel = await options.createAttentionKernel?.(kv);
    return loadLanguageModel({
      backend: options.backend,
      gguf: options.gguf,
      kv,
      ...(options.session === undefined ? {} : { session: options.session }),
      ...(kernel === undefined ? {} : { kernel }),
    });
  };
  const loaded: LoadedLanguageModel[] = [];
  let ownReference: LoadedLanguageModel | null = null;
  try {
    for (const method of parsed) {
      const model = await load(method);
      loaded.push(model);
      options.onLoaded?.(model.methodName);
    }
    let reference = options.reference;
    if (reference === undefined) {
      ownReference = await load({ kind: 'fp32' });
      reference = ownReference.model;
    }
    const result = await evaluateStreaming({
      reference,
      methods: loaded.map((entry) => entry.model),
      tokens: options.tokens,
      context: options.context,
      ...(options.stride === undefined ? {} : { stride: options.stride }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      ...(options.onPartialRecords === undefined
        ? {}
        : {
            onWindowEnd: (partial: StreamingEvaluationResult) => {
              const covered = { windows: partial.windows.length, stride: partial.stride, seconds: partial.seconds, tokens: partial.windows.at(-1)?.end ?? 0 };
              options.onPartialRecords?.(loaded.map((entry, index) => toRecord(entry, partial.methods[index] as MethodEvaluation, options, covered)));
            },
          }),
    });
    const shared = { windows: result.windows.length, stride: result.stride, seconds: result.seconds, tokens: options.tokens.length };
    return {
      records: loaded.map((entry, index) => toRecord(entry, result.methods[index] as MethodEvaluation, options, shared)),
      bitWidthMaps: options.bitWidthMaps === true ? loaded.map((entry) => readBitWidthMap(entry.model)) : [],
    };
  } finally {
    for (const entry of loaded) await entry.model.dispose();
    if (ownReference !== null) await ownReference.model.dispose();
  }
}

/** One method against the fp32 reference: the record of the `qaq eval --json` contract. */
export async function evaluateMethod(options: EvaluateMethodOptions): Promise<EvaluationRecord> {
  const { method, ...rest } = options;
  const { records } = await evaluateMethods({ ...rest, methods: [method] });
  return records[0] as EvaluationRecord;
}
