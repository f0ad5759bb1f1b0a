import { QaqError } from '@qaq/errors';
import type { DecoderConfig, LayerKind } from './decoder-config.js';
import type { GraphBuilder } from './onnx/graph-builder.js';
import { attribute, type Attribute, type ElementType } from './onnx/onnx-types.js';

/** Bits per cached element of onnxruntime's GroupQueryAttention cache: 0 = fp32 (no quantization), 4 or 8. */
export type GqaCacheBits = 0 | 4 | 8;

/** Element type and last-axis length of the cache of `bits`: int8 [.., D], packed uint8 [.., D/2] (two 4-bit codes), fp32. */
export function gqaCacheLayout(bits: GqaCacheBits, headDim: number): { readonly elementType: ElementType; readonly lastAxis: number } {
  if (bits === 8) return { elementType: 'int8', lastAxis: headDim };
  if (bits === 4) return { elementType: 'uint8', lastAxis: headDim / 2 };
  return { elementType: 'float32', lastAxis: headDim };
}

/** The largest symmetric code: scale = absmax / this (onnxruntime: x ≈ code · scale, codes clamped to the type's range). */
export function gqaLargestCode(bits: 4 | 8): number {
  return bits === 8 ? 127 : 7;
}

/**
 * onnxruntime's `local_window_size` for a sliding layer, -1 (none) for a full one. HF Gemma 3 lets a query at p see
 * keys at positions > p − window, i.e. `window` keys including itself; onnxruntime 1.30's CPU kernel shows exactly
 * local_window_size keys (checked by gqa-attention.test.ts against a float64 reference; older kernels showed one
 * more), so the attribute is the window itself.
 */
export function gqaLocalWindowSize(config: DecoderConfig, kind: LayerKind): number {
  return kind === 'sliding' && config.slidingWindow !== null ? config.slidingWindow : -1;
}

export interface GqaAttentionInputs {
  readonly builder: GraphBuilder;
  readonly config: DecoderConfig;
  readonly kind: LayerKind;
  readonly bits: GqaCacheBits;
  /** [1, S, queryHeads, headDim] float32, after QK-norm and RoPE. */
  readonly query: string;
  /** [1, S, kvHeads, headDim] float32, keys after QK-norm and RoPE. */
  readonly key: string;
  readonly value: string;
  /** [1, kvHeads, capacity, lastAxis] cache inputs (BNSH), or undefined for a graph without past (calibration). */
  readonly pastKey: string | undefined;
  readonly pastValue: string | undefined;
  /** int32 [1]: total tokens − 1 (onnxruntime's convention); int32 scalar: total tokens. */
  readonly seqlensK: string;
  readonly totalSequenceLength: string;
  /** float32 [1, kvHeads, 1, headDim] per-channel scales (bits 4 or 8 only). */
  readonly keyScale?: string;
  readonly valueScale?: string;
  /** Names for the node's present outputs (the caller declares them as graph outputs when sharing the buffer). */
  readonly presentKey: string;
  readonly presentValue: string;
}

/**
 * One com.microsoft GroupQueryAttention node over the layer's cache: RoPE is already applied (do_rotary 0), the score
 * scale is the model's, sliding layers get `local_window_size`, and bits 4/8 quantize the cache PER_CHANNEL
 * (symmetric, one scale per KV head and channel, fixed for the sequence). Returns the output [1, S, queryHeads·headDim].
 */
export function gqaAttention(inputs: GqaAttentionInputs): string {
  const { builder: g, config, bits } = inputs;
  if (bits !== 0 && (inputs.keyScale === undefined || inputs.valueScale === undefined)) {
    throw new QaqError('graph-builder-bug', 'a quantized GroupQueryAttention cache needs key and value scales', { details: { bits } });
  }
  const flat = (tensor: string): string => g.op('Reshape', [tensor, g.int64([0, 0, -1])]);
  const operands = [
    flat(inputs.query),
    flat(inputs.key),
    flat(inputs.value),
    inputs.pastKey ?? '',
    inputs.pastValue ?? '',
    inputs.seqlensK,
    inputs.totalSequenceLength,
  ];
  const attributes: Record<string, Attribute> = {
    num_heads: attribute.int(config.queryHeadCount),
    kv_num_heads: attribute.int(config.keyValueHeadCount),
    scale: attribute.float(config.attentionScale),
    local_window_size: attribute.int(gqaLocalWindowSize(config, inputs.kind)),
  };
  if (bits !== 0) {
    // cos_cache, sin_cache, position_ids, attention_bias, head_sink unused; then k_scale, v_scale.
    operands.push('', '', '', '', '', inputs.keyScale!, inputs.valueScale!);
    attributes['k_quant_type'] = attribute.string('PER_CHANNEL');
    attributes['v_quant_type'] = attribute.string('PER_CHANNEL');
    attributes['kv_cache_bit_width'] = attribute.int(bits);
  }
  const [output] = g.node('GroupQueryAttention', operands, attributes, {
    domain: 'com.microsoft',
    outputs: [`${inputs.presentKey}.attention_output`, inputs.presentKey, inputs.presentValue],
  });
  return output!;
}
