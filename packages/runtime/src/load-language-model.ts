import type { CompactAttention } from '@qaq/attention-kernel';
import type { Backend, BackendSession, SessionOptions } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import type { AbortSignalLike, CausalLanguageModel } from '@qaq/generation';
import { readGguf, type GgufFile } from '@qaq/gguf';
import { buildDecoderSegments, type BuildDecoderOptions, type DecoderConfig } from '@qaq/onnx-graph';
import type { QueryNormSource } from '@qaq/policy';
import { CompactCacheAttention } from './compact-cache-attention.js';
import type { DecoderLanguageModel } from './decoder-language-model.js';
import { KiviAttention } from './kivi-attention.js';
import type { KeyValueMemory } from './key-value-store.js';
import { formatKvMethod, parseKvMethod, type KvMethod } from './kv-method.js';
import type { LayerAttention } from './layer-attention.js';
import { createCacheAttentionKernel, type AttentionStrategyName, type AttentionStrategyOptions } from './attention-strategy.js';
import { loadDecoder } from './load-decoder.js';
import { loadOrtQuantizedModel } from './ort-load-quantized-model.js';
import { layerAttentionShape, SegmentedLanguageModel, segmentSessionOptions } from './segmented-language-model.js';

/** A loaded model whatever its KV method: generation, memory readout, provider, disposal. */
export interface RuntimeLanguageModel extends CausalLanguageModel {
  readonly provider: string;
  /** KV bytes held vs fp16, from the cache's own accounting. */
  memory(): KeyValueMemory;
  dispose(): Promise<void>;
}

export interface LoadLanguageModelOptions {
  readonly backend: Backend;
  /** The whole GGUF file. */
  readonly gguf: Uint8Array;
  /** A parsed method or its text (`fp32 | fp16 | uniform:<B> | kivi:<B> | ort-int4 | ort-int8 | qaq[:…]`); default 'qaq'. */
  readonly kv?: KvMethod | string;
  readonly session?: SessionOptions;
  readonly weightFormat?: BuildDecoderOptions['weightFormat'];
  /**
   * MatMulNBits `accuracy_level` of the 4-bit weights (default 0, exact). 4: int8 activations, faster on
   * onnxruntime-node's CPU EP, logits move slightly; no effect on onnxruntime-web's wasm EP. Not applied to the
   * `ort-int4`/`ort-int8` GroupQueryAttention graphs.
   */
  readonly matMulNBitsAccuracyLevel?: BuildDecoderOptions['matMulNBitsAccuracyLevel'];
  /**
   * How 4-bit weights are multiplied (default 'matmul-nbits'). 'dequantize-linear' with the session config entry
   * `session.disable_quant_qdq: '1'` (onnxruntime-web: `configEntries`) runs them at fp32 speed on the wasm EP.
   */
  readonly nbitsOperator?: BuildDecoderOptions['nbitsOperator'];
  /** Chunk length of the segmented path's prefill (default 128). */
  readonly prefillChunkSize?: number;
  /** QAQ: a calibrated ‖q̃‖² table instead of the online estimate. */
  readonly queryNorms?: QueryNormSource;
  /** The attention kernel (default: `createAttention()`, WebAssembly SIMD where available). */
  readonly kernel?: CompactAttention;
  /** Where compact-cache attention runs: 'wasm-kernel' (default, CPU) or 'graph' (an ONNX graph on `backend`'s providers). */
  readonly attention?: AttentionStrategyName;
  readonly onStage?: (stage: 'parse' | 'build-graph' | 'create-session', elapsedMilliseconds: number) => void;
}

export interface LoadedLanguageModel {
  readonly model: RuntimeLanguageModel;
  readonly method: KvMethod;
  /** Canonical text of the method. */
  readonly methodName: string;
  readonly file: GgufFile;
  readonly config: DecoderConfig;
  /** Bytes of the ONNX model(s) handed to the backend. */
  readonly graphBytes: number;
}

/** The dense in-graph fp32 path (DecoderLanguageModel) seen through RuntimeLanguageModel. */
class DenseRuntimeModel implements RuntimeLanguageModel {
  readonly vocabularySize: number;
  readonly contextLength: number;
  constructor(readonly decoder: DecoderLanguageModel) {
    this.vocabularySize = decoder.vocabularySize;
    this.contextLength = decoder.contextLength;
  }
  get tokenCount(): number {
    return this.decoder.tokenCount;
  }
  get provider(): string {
    return this.decoder.provider;
  }
  forward(tokens: Int32Array, signal?: AbortSignalLike): Promise<Float32Array> {
    return this.decoder.forward(tokens, signal);
  }
  reset(): void {
    this.decoder.reset();
  }
  memory(): KeyValueMemory {
    return this.decoder.store.memory();
  }
  dispose(): Promise<void> {
    return this.decoder.dispose();
  }
}

/** The LayerAttention of a method on a model (the segmented path: every method but fp32). */
export async function createLayerAttention(
  method: KvMethod,
  config: DecoderConfig,
  options: AttentionStrategyOptions & { queryNorms?: QueryNormSource } = {},
): Promise<LayerAttention> {
  const shape = layerAttentionShape(config);
  const name = formatKvMethod(method);
  switch (method.kind) {
    case 'fp32':
      throw new QaqError('invalid-kv-method', 'fp32 runs the dense in-graph path, not a layer attention', { details: { method: name } });
    case 'ort':
      throw new QaqError('invalid-kv-method', `${name} runs onnxruntime's GroupQueryAttention graph, not a layer attention`, {
        details: { method: name },
      });
    case 'kivi':
      return new KiviAttention({ shape, bits: method.bits });
    case 'fp16':
    case 'uniform': {
      const kernel = await createCacheAttentionKernel(options);
      const bits = method.kind === 'fp16' ? 16 : method.bits;
      const outlierFraction = method.kind === 'fp16' ? 0 : method.outlierFraction;
      // Keys-only / values-only ablation: the other side stays at fp16.
      const part = method.kind === 'uniform' ? (method.part ?? 'both') : 'both';
      const keyBits = part === 'values' ? 16 : bits;
      const valueBits = part === 'keys' ? 16 : bits;
      const rotation = method.kind === 'uniform' ? (method.rotation ?? 'none') : 'none';
      const centering = method.kind === 'uniform' ? (method.centering ?? 'none') : 'none';
      return new CompactCacheAttention({ shape, kernel, name, mode: { kind: 'fixed', bits: keyBits, outlierFraction, valueBits }, rotation, centering });
    }
    case 'qaq': {
      const kernel = await createCacheAttentionKernel(options);
      const mode =
        options.queryNorms === undefined
          ? { kind: 'qaq' as const, settings: method.settings }
          : { kind: 'qaq' as const, settings: method.settings, queryNorms: options.queryNorms };
      return new CompactCacheAttention({ shape, kernel, name, mode });
    }
  }
}

/**
 * Parses a GGUF and opens a language model with the requested KV method: `fp32` is the dense in-graph path
 * (`loadDecoder`); every other method runs the decoder in segments with attention over the runtime's compact cache.
 */
export async function loadLanguageModel(options: LoadLanguageModelOptions): Promise<LoadedLanguageModel> {
  const method = typeof options.kv === 'string' ? parseKvMethod(options.kv) : (options.kv ?? parseKvMethod('qaq'));
  const methodName = formatKvMethod(method);
  if (method.kind === 'ort') {
    const loaded = await loadOrtQuantizedModel({
      backend: options.backend,
      gguf: options.gguf,
      bits: method.bits,
      ...(options.session === undefined ? {} : { session: options.session }),
      ...(options.weightFormat === undefined ? {} : { weightFormat: options.weightFormat }),
      ...(options.prefillChunkSize === undefined ? {} : { prefillChunkSize: options.prefillChunkSize }),
      ...(options.onStage === undefined ? {} : { onStage: options.onStage }),
    });
    return { model: loaded.model, method, methodName, file: loaded.file, config: loaded.config, graphBytes: loaded.graphBytes };
  }
  if (method.kind === 'fp32') {
    const loaded = await loadDecoder({
      backend: options.backend,
      gguf: options.gguf,
      ...(options.session === undefined ? {} : { session: options.session }),
      ...(options.weightFormat === undefined ? {} : { weightFormat: options.weightFormat }),
      ...(options.matMulNBitsAccuracyLevel === undefined ? {} : { matMulNBitsAccuracyLevel: options.matMulNBitsAccuracyLevel }),
    ...(options.nbitsOperator === undefined ? {} : { nbitsOperator: options.nbitsOperator }),
      ...(options.nbitsOperator === undefined ? {} : { nbitsOperator: options.nbitsOperator }),
      ...(options.onStage === undefined ? {} : { onStage: options.onStage }),
    });
    return { model: new DenseRuntimeModel(loaded.model), method, methodName, file: loaded.file, config: loaded.config, graphBytes: loaded.graphBytes };
  }
  return loadSegmentedModel({
    ...options,
    createAttention: (config) =>
      createLayerAttention(method, config, {
        ...(options.kernel === undefined ? {} : { kernel: options.kernel }),
        ...(options.queryNorms === undefined ? {} : { queryNorms: options.queryNorms }),
        ...(options.attention === 'graph' ? { attention: options.attention, backend: options.backend } : {}),
        ...(options.attention === 'graph' && options.session !== undefined ? { session: options.session } : {}),
      }),
  }).then((loaded) => ({ ...loaded, method, methodName }));
}

export interface LoadSegmentedModelOptions {
  readonly backend: Backend;
  readonly gguf: Uint8Array;
  /** Any attention strategy between the segments (the cache it owns is the model's KV cache). */
  readonly createAttention: (config: DecoderConfig) => LayerAttention | Promise<LayerAttention>;
  readonly session?: SessionOptions;
  readonly weightFormat?: BuildDecoderOptions['weightFormat'];
  readonly matMulNBitsAccuracyLevel?: BuildDecoderOptions['matMulNBitsAccuracyLevel'];
  readonly nbitsOperator?: BuildDecoderOptions['nbitsOperator'];
  readonly prefillChunkSize?: number;
  readonly onStage?: LoadLanguageModelOptions['onStage'];
}

/** Builds the decoder in segments (@qaq/onnx-graph split mode), one session each, around a LayerAttention. */
export async function loadSegmentedModel(
  options: LoadSegmentedModelOptions,
): Promise<{ model: SegmentedLanguageModel; file: GgufFile; config: DecoderConfig; graphBytes: number }> {
  const started = performanceNow();
  const file = readGguf(options.gguf);
  options.onStage?.('parse', performanceNow() - started);
  const segmented = buildDecoderSegments(file, options.gguf, {
    lastLogitsOnly: true,
    ...(options.weightFormat === undefined ? {} : { weightFormat: options.weightFormat }),
    ...(options.matMulNBitsAccuracyLevel === undefined ? {} : { matMulNBitsAccuracyLevel: options.matMulNBitsAccuracyLevel }),
    ...(options.nbitsOperator === undefined ? {} : { nbitsOperator: options.nbitsOperator }),
  });
  options.onStage?.('build-graph', performanceNow() - started);
  const attention = await options.createAttention(segmented.config);
  const sessions: BackendSession[] = [];
  try {
    const sessionOptions = segmentSessionOptions(options.session);
    for (const segment of segmented.segments) sessions.push(await options.backend.createSession(segment.model, sessionOptions));
  } catch (error) {
    for (const session of sessions) await session.dispose();
    await attention.dispose();
    throw error;
  }
  options.onStage?.('create-session', performanceNow() - started);
  const model = new SegmentedLanguageModel({
    backend: options.backend,
    sessions,
    config: segmented.config,
    attention,
    ...(options.prefillChunkSize === undefined ? {} : { prefillChunkSize: options.prefillChunkSize }),
  });
  const graphBytes = segmented.segments.reduce((sum, segment) => sum + segment.model.byteLength, 0);
  return { model, file, config: segmented.config, graphBytes };
}

function performanceNow(): number {
  return (globalThis as { performance?: { now(): number } }).performance?.now() ?? Date.now();
}
