import type { Backend, BackendSession, SessionOptions } from '@qaq/backend-spec';
import { readGguf, type GgufFile } from '@qaq/gguf';
import { buildQuantizedCacheDecoder, type DecoderConfig, type GqaCacheBits, type WeightFormat } from '@qaq/onnx-graph';
import { OrtQuantizedLanguageModel, type KvChannelScales } from './ort-quantized-language-model.js';

export interface LoadOrtQuantizedModelOptions {
  readonly backend: Backend;
  /** The whole GGUF file. */
  readonly gguf: Uint8Array;
  /** 4 or 8 (`ort-int4`, `ort-int8`); 0 runs the same GroupQueryAttention graph with an fp32 cache (a reference). */
  readonly bits: GqaCacheBits;
  readonly session?: SessionOptions;
  readonly weightFormat?: WeightFormat;
  readonly prefillChunkSize?: number;
  readonly scaleMargin?: number;
  /** What the calibration bounds for keys (default 'channel'; see `QuantizedCacheDecoderOptions.keyBound`). */
  readonly keyBound?: 'rotary-pair' | 'channel';
  /** Fixed scales; then no calibration graph is built. */
  readonly scales?: KvChannelScales;
  readonly initialCapacity?: number;
  readonly onStage?: (stage: 'parse' | 'build-graph' | 'create-session', elapsedMilliseconds: number) => void;
}

export interface LoadedOrtQuantizedModel {
  readonly model: OrtQuantizedLanguageModel;
  readonly file: GgufFile;
  readonly config: DecoderConfig;
  /** Bytes of the ONNX models handed to the backend (the decoder, plus the calibration graph when built). */
  readonly graphBytes: number;
}

/**
 * Builds the GroupQueryAttention decoder of a GGUF with onnxruntime's quantized cache and, unless scales are given,
 * the calibration graph (same weights, fp32 cache, per-channel absmax outputs), and opens a session for each.
 */
export async function loadOrtQuantizedModel(options: LoadOrtQuantizedModelOptions): Promise<LoadedOrtQuantizedModel> {
  const started = performanceNow();
  const file = readGguf(options.gguf);
  options.onStage?.('parse', performanceNow() - started);
  const format = options.weightFormat === undefined ? {} : { weightFormat: options.weightFormat };
  const decoder = buildQuantizedCacheDecoder(file, options.gguf, { bits: options.bits, ...format });
  const needsCalibration = options.bits !== 0 && options.scales === undefined;
  const calibration = needsCalibration ? buildQuantizedCacheDecoder(file, options.gguf, {
        bits: options.bits,
        calibration: true,
        ...(options.keyBound === undefined ? {} : { keyBound: options.keyBound }),
        ...format,
      }) : undefined;
  options.onStage?.('build-graph', performanceNow() - started);
  const session = await options.backend.createSession(decoder.model, options.session);
  let calibrationSession: BackendSession | undefined;
  try {
    if (calibration !== undefined) calibrationSession = await options.backend.createSession(calibration.model, options.session);
  } catch (error) {
    await session.dispose();
    throw error;
  }
  options.onStage?.('create-session', performanceNow() - started);
  const model = new OrtQuantizedLanguageModel({
    backend: options.backend,
    session,
    ...(calibrationSession === undefined ? {} : { calibrationSession }),
    config: decoder.config,
    bits: options.bits,
    ...(options.scales === undefined ? {} : { scales: options.scales }),
    ...(options.scaleMargin === undefined ? {} : { scaleMargin: options.scaleMargin }),
    ...(options.prefillChunkSize === undefined ? {} : { prefillChunkSize: options.prefillChunkSize }),
    ...(options.initialCapacity === undefined ? {} : { initialCapacity: options.initialCapacity }),
  });
  const graphBytes = decoder.model.byteLength + (calibration?.model.byteLength ?? 0);
  return { model, file, config: decoder.config, graphBytes };
}

function performanceNow(): number {
  return (globalThis as { performance?: { now(): number } }).performance?.now() ?? Date.now();
}
