import type { Backend, SessionOptions } from '@qaq/backend-spec';
import { readGguf, type GgufFile } from '@qaq/gguf';
import { buildDecoderModel, type BuildDecoderOptions, type DecoderConfig } from '@qaq/onnx-graph';
import { DecoderLanguageModel } from './decoder-language-model.js';
import { DenseKeyValueStore } from './dense-key-value-store.js';

export interface LoadDecoderOptions {
  readonly backend: Backend;
  /** The whole GGUF file. */
  readonly gguf: Uint8Array;
  readonly session?: SessionOptions;
  readonly weightFormat?: BuildDecoderOptions['weightFormat'];
  /** MatMulNBits `accuracy_level` of the 4-bit weights (default 0; see `BuildDecoderOptions`). */
  readonly matMulNBitsAccuracyLevel?: BuildDecoderOptions['matMulNBitsAccuracyLevel'];
  /** How 4-bit weights are multiplied (default 'matmul-nbits'; see `BuildDecoderOptions`). */
  readonly nbitsOperator?: BuildDecoderOptions['nbitsOperator'];
  /** Called between the stages, for progress displays. */
  readonly onStage?: (stage: 'parse' | 'build-graph' | 'create-session', elapsedMilliseconds: number) => void;
}

export interface LoadedDecoder {
  readonly model: DecoderLanguageModel;
  readonly file: GgufFile;
  readonly config: DecoderConfig;
  /** Size of the ONNX model handed to the backend. */
  readonly graphBytes: number;
}

/** Tokens a step of each layer can see: window − 1 on sliding-window layers (the new token makes the window). */
export function retainedTokensPerLayer(config: DecoderConfig): (number | null)[] {
  return config.layerKinds.map((kind) =>
    kind === 'sliding' && config.slidingWindow !== null ? config.slidingWindow - 1 : null,
  );
}

/** Parses a GGUF, builds its decoder graph, opens a backend session and returns a ready language model. */
export async function loadDecoder(options: LoadDecoderOptions): Promise<LoadedDecoder> {
  const started = performanceNow();
  const file = readGguf(options.gguf);
  options.onStage?.('parse', performanceNow() - started);
  const built = buildDecoderModel(file, options.gguf, {
    lastLogitsOnly: true,
    ...(options.weightFormat === undefined ? {} : { weightFormat: options.weightFormat }),
    ...(options.matMulNBitsAccuracyLevel === undefined ? {} : { matMulNBitsAccuracyLevel: options.matMulNBitsAccuracyLevel }),
    ...(options.nbitsOperator === undefined ? {} : { nbitsOperator: options.nbitsOperator }),
  });
  options.onStage?.('build-graph', performanceNow() - started);
  const session = await options.backend.createSession(built.model, options.session);
  options.onStage?.('create-session', performanceNow() - started);
  const store = new DenseKeyValueStore({
    layerCount: built.config.layerCount,
    keyValueHeadCount: built.config.keyValueHeadCount,
    headDim: built.config.headDim,
    retainedTokens: retainedTokensPerLayer(built.config),
  });
  const model = new DecoderLanguageModel({ backend: options.backend, session, config: built.config, store });
  return { model, file, config: built.config, graphBytes: built.model.byteLength };
}

function performanceNow(): number {
  return (globalThis as { performance?: { now(): number } }).performance?.now() ?? Date.now();
}
