import type { Backend } from '@qaq/backend-spec';
import type { WebSessionOptions } from '@qaq/backend-web';
import { loadLanguageModel, type LoadedLanguageModel } from '@qaq/runtime';
import { createTokenizer, tokenizerSourceFromGgufMetadata, type Tokenizer } from '@qaq/tokenizer';
import type { ProviderChoice, WeightChoice } from '../app-options.js';
import { createBrowserBackend } from './web-backend.js';

/** onnxruntime folds DequantizeLinear of constant weights into fp32 initializers when the session is created. */
const foldDequantizeLinear: WebSessionOptions = { configEntries: { 'session.disable_quant_qdq': '1' } };

/** A model ready to generate: the runtime model (graphs built in the browser), its tokenizer, and how it was made. */
export interface ModelSession {
  readonly loaded: LoadedLanguageModel;
  readonly tokenizer: Tokenizer;
  readonly backend: Backend;
  readonly modelName: string;
  readonly kvMethod: string;
  readonly providerChoice: ProviderChoice;
  readonly weights: WeightChoice;
  readonly loadMilliseconds: number;
}

export type LoadStage = 'parse' | 'build-graph' | 'create-session' | 'tokenizer';

export interface OpenModelOptions {
  readonly gguf: Uint8Array;
  readonly modelName: string;
  readonly kvMethod: string;
  readonly providerChoice: ProviderChoice;
  /** Default 'nbits'. */
  readonly weights?: WeightChoice;
  readonly onStage?: (stage: LoadStage, elapsedMilliseconds: number) => void;
}

/** Builds the ONNX graphs from the GGUF in the browser (same builder as Node), opens sessions, makes the tokenizer. */
export async function openModel(options: OpenModelOptions): Promise<ModelSession> {
  const started = performance.now();
  const backend = await createBrowserBackend(options.providerChoice);
  const loaded = await loadLanguageModel({
    backend,
    gguf: options.gguf,
    kv: options.kvMethod,
    weightFormat: options.weights ?? 'nbits',
    // onnxruntime-web's wasm MatMulNBits dequantizes every weight on every run (no n-bit kernel in its MLAS build):
    // there, 4-bit weights go in as DequantizeLinear, which onnxruntime folds to fp32 once at session creation
    // (fp32 speed and memory, 4-bit download and graph). See @qaq/onnx-graph's README, "Weights on the wasm EP".
    ...(backend.provider === 'wasm'
      ? { nbitsOperator: 'dequantize-linear' as const, session: foldDequantizeLinear }
      : {}),
    ...(options.onStage === undefined ? {} : { onStage: options.onStage }),
  });
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(loaded.file.metadata));
  options.onStage?.('tokenizer', performance.now() - started);
  return {
    loaded,
    tokenizer,
    backend,
    modelName: options.modelName,
    kvMethod: loaded.methodName,
    providerChoice: options.providerChoice,
    weights: options.weights ?? 'nbits',
    loadMilliseconds: performance.now() - started,
  };
}
