import type { GgufFile } from '@qaq/gguf';
import { defaultAttention, type AttentionEmitter } from './attention.js';
import { readDecoderConfig, type DecoderConfig } from './decoder-config.js';
import { DecoderGraph, loadSharedWeights, type TensorDescription } from './decoder-graph.js';
import { linearSettings, type MatMulNBitsAccuracyLevel, type NBitsOperator, type WeightFormat } from './weight-format.js';

export interface BuildDecoderOptions {
  /** Default 'nbits' (MatMulNBits from the GGUF blocks); 'fp32' dequantizes every matrix. */
  readonly weightFormat?: WeightFormat;
  /**
   * MatMulNBits `accuracy_level` of the 4-bit weights (default 0: fp32 compute). 4 lets onnxruntime quantize the
   * activations to int8 per block (faster on x86-64/ARM64 CPUs, logits no longer exact); no effect with 'fp32'
   * weights, and none on onnxruntime-web's wasm EP, which has no n-bit kernel.
   */
  readonly matMulNBitsAccuracyLevel?: MatMulNBitsAccuracyLevel;
  /**
   * Default 'matmul-nbits'. 'dequantize-linear': DequantizeLinear (uint4) + FusedMatMul, for onnxruntime-web's wasm EP
   * with the session config `session.disable_quant_qdq = 1` (folded to fp32 at load). See `NBitsOperator`.
   */
  readonly nbitsOperator?: NBitsOperator;
  /** Default false: logits for every new position; true: only the last one ([1, 1, vocab]). */
  readonly lastLogitsOnly?: boolean;
  /** Default: full-precision attention with plain ONNX ops. */
  readonly attention?: AttentionEmitter;
}

export interface DecoderModel {
  readonly model: Uint8Array;
  readonly config: DecoderConfig;
  readonly inputs: readonly TensorDescription[];
  readonly outputs: readonly TensorDescription[];
}

/** Opsets: ONNX 21 (Gelu with approximate, Shape start/end), com.microsoft 1 (MatMulNBits). */
export const DECODER_OPSETS = [
  { domain: '', version: 21 },
  { domain: 'com.microsoft', version: 1 },
] as const;

/**
 * Builds an ONNX decoder for a llama or gemma3 GGUF that computes what Hugging Face transformers computes from the
 * same file. Inputs: input_ids, position_ids [1, S] int64 and past_key.{i}/past_value.{i} [1, P, kvHeads, headDim]
 * (token-major; P may differ per layer); outputs: logits [1, S | 1, vocab] and the new tokens' key.{i}/value.{i}
 * [1, S, kvHeads, headDim] (keys after QK-norm and RoPE), which the caller appends to its cache.
 */
export function buildDecoderModel(file: GgufFile, bytes: Uint8Array, options: BuildDecoderOptions = {}): DecoderModel {
  const config = readDecoderConfig(file);
  const format = options.weightFormat ?? 'nbits';
  const attention = options.attention ?? defaultAttention;
  const settings = linearSettings(options);
  const shared = loadSharedWeights(file, bytes, config, format);
  const graph = new DecoderGraph(`${config.architecture}-decoder`, file, bytes, config, format, shared, settings);
  const { keyValueHeadCount, headDim } = config;
  let hidden = graph.embed();
  const positionIds = graph.positions;
  const past = Array.from({ length: config.layerCount }, (_, layer) => {
    const shape = [1, `past_sequence.${layer}`, keyValueHeadCount, headDim];
    return { key: graph.input(`past_key.${layer}`, 'float32', shape), value: graph.input(`past_value.${layer}`, 'float32', shape) };
  });
  for (let layer = 0; layer < config.layerCount; layer++) {
    const { query, key, value } = graph.attentionOperands(layer, hidden);
    const operands = {
      query,
      key: graph.output(key, `key.${layer}`, [1, 'sequence', keyValueHeadCount, headDim]),
      value: graph.output(value, `value.${layer}`, [1, 'sequence', keyValueHeadCount, headDim]),
    };
    const attended = graph.g.scope(`layers.${layer}/attention`, () =>
      attention({
        builder: graph.g,
        config,
        layer,
        kind: config.layerKinds[layer] ?? 'full',
        ...operands,
        pastKey: past[layer]!.key,
        pastValue: past[layer]!.value,
        positionIds,
      }),
    );
    hidden = graph.afterAttention(layer, hidden, attended);
  }
  graph.logits(hidden, options.lastLogitsOnly === true);
  const model = graph.g.toModel({
    opsetImports: DECODER_OPSETS,
    metadata: { architecture: config.architecture, weightFormat: format, matMulNBitsAccuracyLevel: String(settings.accuracyLevel), nbitsOperator: settings.nbitsOperator },
  });
  return { model, config, inputs: graph.inputs, outputs: graph.outputs };
}
