import { QaqError } from '@qaq/errors';
import type { GgufFile } from '@qaq/gguf';
import { DECODER_OPSETS } from './build-decoder.js';
import { readDecoderConfig, type DecoderConfig } from './decoder-config.js';
import { DecoderGraph, loadSharedWeights } from './decoder-graph.js';
import { gqaAttention, gqaCacheLayout, type GqaCacheBits } from './gqa-attention.js';
import type { GraphBuilder } from './onnx/graph-builder.js';
import { attribute, type Dimension, type ElementType } from './onnx/onnx-types.js';
import type { WeightFormat } from './weight-format.js';

export interface QuantizedCacheDecoderOptions {
  /** 8 or 4: onnxruntime's int8 / packed-int4 PER_CHANNEL cache; 0: its fp32 cache (the exactness reference). */
  readonly bits: GqaCacheBits;
  /** Default 'nbits'. */
  readonly weightFormat?: WeightFormat;
  /** Default true: logits of the last position only ([1, 1, vocab]). */
  readonly lastLogitsOnly?: boolean;
  /**
   * Default false. true: a graph without past inputs or present outputs (one chunk from an empty cache, fp32 cache
   * whatever `bits`) that also returns `key_absmax.{i}` / `value_absmax.{i}` [kvHeads, headDim]: per channel a bound
   * on |key| (after QK-norm and RoPE; see `keyBound`) and the largest |value| of the chunk, to calibrate the scales of
   * a quantized cache.
   */
  readonly calibration?: boolean;
  /**
   * What `key_absmax` bounds. 'channel' (default): the per-channel max |k| of the chunk. 'rotary-pair': per RoPE pair
   * (channels i and i + D/2, HF rotate_half layout) the largest √(k_i² + k_{i+D/2}²), given to both channels — RoPE
   * rotates each pair by a position-dependent angle, so only the pair norm bounds a later token whatever its position;
   * but the wider range costs resolution, and it measured worse for int4 (runtime README).
   */
  readonly keyBound?: 'rotary-pair' | 'channel';
}

/** [1, S, heads, D] → √(x_i² + x_{i+D/2}²) for each RoPE pair, written to both channels of the pair. */
function rotaryPairNorm(g: GraphBuilder, tensor: string, headDim: number): string {
  const half = headDim / 2;
  const [first, second] = g.node('Split', [tensor, g.int64([half, half])], { axis: attribute.int(-1) }, { outputCount: 2 });
  const square = (part: string): string => g.op('Mul', [part, part]);
  const norm = g.op('Sqrt', [g.op('Add', [square(first!), square(second!)])]);
  return g.op('Concat', [norm, norm], { axis: attribute.int(-1) });
}

export interface GraphTensorDescription {
  readonly name: string;
  readonly elementType: ElementType;
  readonly shape: readonly Dimension[];
}

export interface QuantizedCacheDecoder {
  readonly model: Uint8Array;
  readonly config: DecoderConfig;
  readonly bits: GqaCacheBits;
  readonly inputs: readonly GraphTensorDescription[];
  readonly outputs: readonly GraphTensorDescription[];
}

/**
 * A decoder whose attention is onnxruntime's com.microsoft GroupQueryAttention over a cache it writes itself
 * (llama and gemma3, sliding-window layers via `local_window_size`). Everything around attention is the same graph as
 * `buildDecoderModel` (QK-norm, RoPE in the graph from position_ids, MLP, lm_head).
 *
 * Inputs: `input_ids`, `position_ids` int64 [1, S]; `seqlens_k` int32 [1] = past + S − 1; `total_sequence_length`
 * int32 scalar = past + S; per layer `past_key.{i}` / `past_value.{i}` [1, kvHeads, capacity, D] (int8 for 8 bits,
 * uint8 [.., D/2] for 4 bits: bias 8, low nibble = even channel; float32 for 0) and, for 4/8 bits, `k_scale.{i}` /
 * `v_scale.{i}` float32 [1, kvHeads, 1, D] (x ≈ code · scale). Outputs: `logits` and `present_key.{i}` /
 * `present_value.{i}` of the cache's shape. Feed the same buffer as past and as the preallocated present output:
 * onnxruntime then runs in shared-buffer mode and writes the S new tokens in place at index past.
 */
export function buildQuantizedCacheDecoder(file: GgufFile, bytes: Uint8Array, options: QuantizedCacheDecoderOptions): QuantizedCacheDecoder {
  const bits = options.bits;
  if (bits !== 0 && bits !== 4 && bits !== 8) {
    throw new QaqError('invalid-cache-bits', 'onnxruntime GroupQueryAttention caches hold 4 or 8 bits (or 0: fp32)', { details: { bits } });
  }
  const config = readDecoderConfig(file);
  const format = options.weightFormat ?? 'nbits';
  const calibration = options.calibration === true;
  const cacheBits: GqaCacheBits = calibration ? 0 : bits;
  if (cacheBits === 4 && config.headDim % 2 !== 0) {
    throw new QaqError('invalid-cache-bits', 'a 4-bit cache packs two channels per byte and needs an even head dim', { details: { headDim: config.headDim } });
  }
  const shared = loadSharedWeights(file, bytes, config, format);
  const graph = new DecoderGraph(`${config.architecture}-gqa-decoder`, file, bytes, config, format, shared);
  const g = graph.g;
  const inputs: GraphTensorDescription[] = [];
  const outputs: GraphTensorDescription[] = [];
  const input = (name: string, elementType: ElementType, shape: readonly Dimension[]): string => {
    inputs.push({ name, elementType, shape });
    return g.input(name, elementType, shape);
  };
  const output = (name: string, elementType: ElementType, shape: readonly Dimension[]): void => {
    outputs.push({ name, elementType, shape });
    g.output(name, elementType, shape);
  };
  const { keyValueHeadCount, headDim } = config;
  let hidden = graph.embed();
  // position_ids drives the graph's own RoPE (declared by DecoderGraph on first use).
  const seqlensK = input('seqlens_k', 'int32', [1]);
  const totalSequenceLength = input('total_sequence_length', 'int32', []);
  const layout = gqaCacheLayout(cacheBits, headDim);
  const cacheShape = [1, keyValueHeadCount, 'capacity', layout.lastAxis];
  const scaleShape = [1, keyValueHeadCount, 1, headDim];
  for (let layer = 0; layer < config.layerCount; layer++) {
    const kind = config.layerKinds[layer] ?? 'full';
    const operands = graph.attentionOperands(layer, hidden);
    const past = calibration
      ? { key: undefined, value: undefined }
      : { key: input(`past_key.${layer}`, layout.elementType, cacheShape), value: input(`past_value.${layer}`, layout.elementType, cacheShape) };
    const scales =
      cacheBits === 0
        ? {}
        : { keyScale: input(`k_scale.${layer}`, 'float32', scaleShape), valueScale: input(`v_scale.${layer}`, 'float32', scaleShape) };
    const presentKey = calibration ? `layers.${layer}/present_key` : `present_key.${layer}`;
    const presentValue = calibration ? `layers.${layer}/present_value` : `present_value.${layer}`;
    const attended = g.scope(`layers.${layer}/attention`, () =>
      gqaAttention({
        builder: g,
        config,
        kind,
        bits: cacheBits,
        ...operands,
        pastKey: past.key,
        pastValue: past.value,
        seqlensK,
        totalSequenceLength,
        ...scales,
        presentKey,
        presentValue,
      }),
    );
    if (calibration) {
      const keyMagnitude = options.keyBound === 'rotary-pair' ? rotaryPairNorm(g, operands.key, headDim) : g.op('Abs', [operands.key]);
      for (const [kindName, magnitude] of [['key', keyMagnitude], ['value', g.op('Abs', [operands.value])]] as const) {
        const name = `${kindName}_absmax.${layer}`;
        g.node('ReduceMax', [magnitude, g.int64([0, 1])], { keepdims: attribute.int(0) }, { outputs: [name] });
        output(name, 'float32', [keyValueHeadCount, headDim]);
      }
    } else {
      output(presentKey, layout.elementType, cacheShape);
      output(presentValue, layout.elementType, cacheShape);
    }
    hidden = graph.afterAttention(layer, hidden, attended);
  }
  const lastOnly = options.lastLogitsOnly ?? true;
  graph.logits(hidden, lastOnly);
  // DecoderGraph declared input_ids, position_ids and logits itself.
  const all = {
    inputs: [...graph.inputs, ...inputs],
    outputs: [...graph.outputs, ...outputs],
  };
  const model = g.toModel({
    opsetImports: DECODER_OPSETS,
    metadata: { architecture: config.architecture, weightFormat: format, kvCache: calibration ? 'calibration' : cacheBits === 0 ? 'gqa-fp32' : `gqa-int${cacheBits}` },
  });
  return { model, config, bits: cacheBits, inputs: all.inputs, outputs: all.outputs };
}
