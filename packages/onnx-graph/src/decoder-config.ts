import { QaqError } from '@qaq/errors';
import type { GgufFile } from '@qaq/gguf';
import { findTensor, metadataArrayLength, metadataNumber, metadataString, requireTensor, requiredNumber } from './gguf-access.js';

export type DecoderArchitecture = 'llama' | 'gemma3';
export type LayerKind = 'full' | 'sliding';

/** Everything the graph builder needs to know about a decoder, read from GGUF metadata and tensor shapes. */
export interface DecoderConfig {
  readonly architecture: DecoderArchitecture;
  readonly layerCount: number;
  readonly hiddenSize: number;
  readonly feedForwardSize: number;
  readonly queryHeadCount: number;
  readonly keyValueHeadCount: number;
  readonly headDim: number;
  readonly vocabSize: number;
  /** RoPE base of full-attention layers. */
  readonly ropeTheta: number;
  /** RoPE base of sliding-window layers (Gemma 3: 10,000); equals ropeTheta when there are none. */
  readonly ropeLocalTheta: number;
  /** Linear RoPE scaling factor of full-attention layers (1 = none). */
  readonly ropeScaleFactor: number;
  readonly rmsEpsilon: number;
  /** Sliding-window size in tokens: a key is visible when keyPosition > queryPosition − window. */
  readonly slidingWindow: number | null;
  /** Every `slidingWindowPattern`-th layer is global, the others slide (Gemma 3: 6). */
  readonly slidingWindowPattern: number | null;
  /** Kind of each layer. */
  readonly layerKinds: readonly LayerKind[];
  /** Gemma's query_pre_attn_scalar; the attention score scale is its −½ power. */
  readonly queryPreAttentionScalar: number;
  readonly attentionScale: number;
  readonly contextLength: number;
  readonly tiedEmbeddings: boolean;
  /** Multiplier of the embedding output (Gemma: √hidden, rounded to fp32 like HF). */
  readonly embeddingScale: number;
  /** Gemma 3: RMSNorm on queries and keys per head. */
  readonly queryKeyNorm: boolean;
  /** Gemma 3: extra RMSNorms after attention and after the MLP (4 norms per layer). */
  readonly sandwichNorms: boolean;
  readonly activation: 'silu' | 'gelu-tanh';
}

function architectureOf(file: GgufFile): DecoderArchitecture {
  const architecture = metadataString(file, 'general.architecture');
  if (architecture === 'llama' || architecture === 'gemma3') return architecture;
  throw new QaqError('unsupported-architecture', `architecture ${String(architecture)} is not supported`, {
    details: { architecture, supported: ['llama', 'gemma3'] },
  });
}

/** Reads the decoder hyper-parameters of a llama or gemma3 GGUF. */
export function readDecoderConfig(file: GgufFile): DecoderConfig {
  const architecture = architectureOf(file);
  const key = (suffix: string): string => `${architecture}.${suffix}`;
  const layerCount = requiredNumber(file, key('block_count'));
  const hiddenSize = requiredNumber(file, key('embedding_length'));
  const feedForwardSize = requiredNumber(file, key('feed_forward_length'));
  const queryHeadCount = requiredNumber(file, key('attention.head_count'));
  const keyValueHeadCount = metadataNumber(file, key('attention.head_count_kv')) ?? queryHeadCount;
  const headDim =
    metadataNumber(file, key('attention.key_length')) ??
    metadataNumber(file, key('rope.dimension_count')) ??
    hiddenSize / queryHeadCount;
  const embedding = requireTensor(file, 'token_embd.weight');
  const vocabSize =
    metadataNumber(file, key('vocab_size')) ??
    embedding.dimensions[1] ??
    metadataArrayLength(file, 'tokenizer.ggml.tokens') ??
    0;
  const ropeTheta = metadataNumber(file, key('rope.freq_base')) ?? 10_000;
  const scalingType = metadataString(file, key('rope.scaling.type'));
  const ropeScaleFactor =
    scalingType === 'linear' ? (metadataNumber(file, key('rope.scaling.factor')) ?? 1) : 1;
  if (scalingType !== undefined && scalingType !== 'none' && scalingType !== 'linear') {
    throw new QaqError('unsupported-architecture', `RoPE scaling ${scalingType} is not supported`, {
      details: { scalingType },
    });
  }
  const rmsEpsilon = requiredNumber(file, key('attention.layer_norm_rms_epsilon'));
  const contextLength = requiredNumber(file, key('context_length'));
  const tiedEmbeddings = findTensor(file, 'output.weight') === undefined;
  const isGemma = architecture === 'gemma3';
  const slidingWindow = isGemma ? (metadataNumber(file, key('attention.sliding_window')) ?? null) : null;
  // llama.cpp and HF both hard-code Gemma 3's pattern: 5 sliding layers, then 1 global.
  const slidingWindowPattern = slidingWindow === null ? null : 6;
  const layerKinds = Array.from({ length: layerCount }, (_, layer): LayerKind =>
    slidingWindowPattern !== null && (layer + 1) % slidingWindowPattern !== 0 ? 'sliding' : 'full',
  );
  // Gemma 3 27B scales by hidden/heads (query_pre_attn_scalar 168), the other sizes by head_dim (llama.cpp rule).
  const queryPreAttentionScalar = isGemma && layerCount === 62 ? hiddenSize / queryHeadCount : headDim;
  const config: DecoderConfig = {
    architecture,
    layerCount,
    hiddenSize,
    feedForwardSize,
    queryHeadCount,
    keyValueHeadCount,
    headDim,
    vocabSize,
    ropeTheta,
    ropeLocalTheta: isGemma ? 10_000 : ropeTheta,
    ropeScaleFactor,
    rmsEpsilon,
    slidingWindow,
    slidingWindowPattern,
    layerKinds,
    queryPreAttentionScalar,
    attentionScale: queryPreAttentionScalar ** -0.5,
    contextLength,
    tiedEmbeddings,
    embeddingScale: isGemma ? Math.fround(Math.sqrt(hiddenSize)) : 1,
    queryKeyNorm: isGemma,
    sandwichNorms: isGemma,
    activation: isGemma ? 'gelu-tanh' : 'silu',
  };
  validate(config);
  return config;
}

function validate(config: DecoderConfig): void {
  const problems: string[] = [];
  if (config.queryHeadCount % config.keyValueHeadCount !== 0) problems.push('query heads not a multiple of KV heads');
  if (!Number.isInteger(config.headDim) || config.headDim % 2 !== 0) problems.push('head dim must be an even integer');
  if (config.vocabSize <= 0) problems.push('vocabulary size unknown');
  if (problems.length > 0) {
    throw new QaqError('invalid-decoder-config', problems.join('; '), { details: { ...config, problems } });
  }
}
