import { readFile } from 'node:fs/promises';
import { createNodeBackend } from '@qaq/backend-node';
import { contractRecord, evaluateStreaming, significant, type EvaluationRecord } from '@qaq/evaluation';
import type { DecoderConfig } from '@qaq/onnx-graph';
import { loadLanguageModel, retainedTokensPerLayer } from '@qaq/runtime';
import { LlamaLanguageModel, type LlamaCacheType, type LlamaLanguageModels } from './llama-language-model.js';

export interface LlamaPeerEvaluationOptions {
  /** Model name for the record. */
  readonly model: string;
  readonly modelPath: string;
  /** llama.cpp cache types, evaluated in lockstep (one reference pass for all). */
  readonly cacheTypes: readonly LlamaCacheType[];
  /** Our tokenizer's ids for the text (BOS included when the model uses one), fed to llama.cpp as ids. */
  readonly tokens: Int32Array;
  readonly context: number;
  readonly stride?: number;
  readonly threads: number;
  readonly textName?: string;
  /** Single-token steps timed without reading logits back, after the evaluation (default 64). */
  readonly speedSteps?: number;
}

/** The method name peers carry in records: `llama-f16`, `llama-q8_0`, `llama-q4_0`. */
export function llamaMethodName(cacheType: LlamaCacheType): string {
  return `llama-${cacheType}`;
}

/** Live KV elements after `tokenCount` tokens, sliding-window layers capped at what they retain. */
export function liveKeyValueElements(config: DecoderConfig, tokenCount: number): number {
  const perToken = 2 * config.keyValueHeadCount * config.headDim;
  return retainedTokensPerLayer(config).reduce<number>(
    (sum, retained) => sum + perToken * (retained === null ? tokenCount : Math.min(tokenCount, retained)),
    0,
  );
}


/**
 * Evaluates llama.cpp with each KV cache type against OUR fp32 reference (the same model on our runtime), through
 * @qaq/evaluation's streaming evaluation: same windows, same scored positions, same metric code as `qaq eval`; the
 * cache types run in lockstep with one reference pass. Records have the `qaq eval --json` shape;
 * `decode_tokens_per_s` counts forward() including the full-logit copy node-llama-cpp makes,
 * `decode_tokens_per_s_without_logits` is llama.cpp's own single-token speed (timed after the evaluation).
 */
export async function evaluateLlamaPeers(options: LlamaPeerEvaluationOptions): Promise<(EvaluationRecord & Record<string, unknown>)[]> {
  const gguf = new Uint8Array(await readFile(options.modelPath));
  const reference = await loadLanguageModel({
    backend: createNodeBackend(),
    gguf,
    kv: 'fp32',
    session: { executionProviders: ['cpu'], intraOpThreads: options.threads },
  });
  let llama: LlamaLanguageModels | undefined;
  try {
    llama = await LlamaLanguageModel.loadAll(
      {
        modelPath: options.modelPath,
        threads: options.threads,
        contextSize: options.context,
        vocabularySize: reference.model.vocabularySize,
        liveElements: (tokenCount) => liveKeyValueElements(reference.config, tokenCount),
      },
      options.cacheTypes,
    );
    const result = await evaluateStreaming({
      reference: reference.model,
      methods: llama.models,
      tokens: options.tokens,
      context: options.context,
      ...(options.stride === undefined ? {} : { stride: options.stride }),
    });
    const speedSteps = Math.min(options.speedSteps ?? 64, Math.floor(options.context / 2), options.tokens.length - 1);
    const speedEnd = Math.min(options.context, options.tokens.length);
    const records: (EvaluationRecord & Record<string, unknown>)[] = [];
    for (const [index, model] of llama.models.entries()) {
      const decodeWithoutLogits = await model.timeDecode(
        options.tokens.subarray(0, speedEnd - speedSteps),
        options.tokens.subarray(speedEnd - speedSteps, speedEnd),
      );
      records.push({
        ...contractRecord({
          model: options.model,
          method: llamaMethodName(model.cacheType),
          tokens: options.tokens.length,
          context: options.context,
          stride: result.stride,
          windows: result.windows.length,
          seconds: result.seconds,
          evaluation: result.methods[index]!,
          // Set below, once every cache type has run: the process's peak is theirs together.
          peakResidentBytes: 0,
          text: options.textName ?? null,
          qaqSettings: null,
          provider: model.provider,
        }),
        decode_tokens_per_s_without_logits: significant(decodeWithoutLogits),
        flash_attention: model.flashAttention,
        llama_threads: options.threads,
        kv_bytes_source: 'computed: live elements × llama.cpp cache type bytes per element',
      });
    }
    // One process for all cache types: the peak is theirs together (the fp32 reference included).
    const peak = process.resourceUsage().maxRSS * 1024;
    return records.map((record) => ({ ...record, peak_rss_bytes: peak }));
  } finally {
    await llama?.dispose();
    await reference.model.dispose();
  }
}
