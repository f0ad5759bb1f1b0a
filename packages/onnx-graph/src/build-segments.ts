import type { GgufFile } from '@qaq/gguf';
import { DECODER_OPSETS, type BuildDecoderOptions } from './build-decoder.js';
import { readDecoderConfig, type DecoderConfig } from './decoder-config.js';
import { DecoderGraph, loadSharedWeights, type TensorDescription } from './decoder-graph.js';
import { linearSettings } from './weight-format.js';

export interface DecoderSegment {
  readonly model: Uint8Array;
  readonly inputs: readonly TensorDescription[];
  readonly outputs: readonly TensorDescription[];
}

export interface SegmentedDecoder {
  readonly config: DecoderConfig;
  /**
   * layerCount + 1 graphs. Segment 0: input_ids, position_ids → hidden.0, query.0, key.0, value.0.
   * Segment i (1 ≤ i < L): hidden.{i−1}, attention.{i−1}, position_ids → hidden.i, query.i, key.i, value.i.
   * Segment L: hidden.{L−1}, attention.{L−1} → logits. hidden.i is the residual stream entering layer i. `attention.{i}` is [1, S, queryHeads · headDim] (heads in query
   * head order), computed by the caller from query.i and its own cache (which it appends key.i/value.i to).
   */
  readonly segments: readonly DecoderSegment[];
}

/**
 * "Split" mode: the decoder cut at every attention so that the runtime computes attention itself (for example
 * over a quantized KV cache). The graphs compute exactly what `buildDecoderModel` computes around its attention.
 */
export function buildDecoderSegments(
  file: GgufFile,
  bytes: Uint8Array,
  options: Omit<BuildDecoderOptions, 'attention'> = {},
): SegmentedDecoder {
  const config = readDecoderConfig(file);
  const format = options.weightFormat ?? 'nbits';
  const settings = linearSettings(options);
  const shared = loadSharedWeights(file, bytes, config, format);
  const { queryHeadCount, keyValueHeadCount, headDim, hiddenSize } = config;
  const segments: DecoderSegment[] = [];
  for (let segment = 0; segment <= config.layerCount; segment++) {
    const graph = new DecoderGraph(`${config.architecture}-segment-${segment}`, file, bytes, config, format, shared, settings);
    let hidden: string;
    if (segment === 0) {
      hidden = graph.embed();
    } else {
      const residual = graph.input(`hidden.${segment - 1}`, 'float32', [1, 'sequence', hiddenSize]);
      const attended = graph.input(`attention.${segment - 1}`, 'float32', [1, 'sequence', queryHeadCount * headDim]);
      hidden = graph.afterAttention(segment - 1, residual, attended);
    }
    if (segment < config.layerCount) {
      const operands = graph.attentionOperands(segment, hidden);
      graph.output(hidden, `hidden.${segment}`, [1, 'sequence', hiddenSize]);
      graph.output(operands.query, `query.${segment}`, [1, 'sequence', queryHeadCount, headDim]);
      graph.output(operands.key, `key.${segment}`, [1, 'sequence', keyValueHeadCount, headDim]);
      graph.output(operands.value, `value.${segment}`, [1, 'sequence', keyValueHeadCount, headDim]);
    } else {
      graph.logits(hidden, options.lastLogitsOnly === true);
    }
    const model = graph.g.toModel({
      opsetImports: DECODER_OPSETS,
      metadata: {
        architecture: config.architecture,
        weightFormat: format,
        matMulNBitsAccuracyLevel: String(settings.accuracyLevel),
        nbitsOperator: settings.nbitsOperator,
        segment: String(segment),
      },
    });
    segments.push({ model, inputs: graph.inputs, outputs: graph.outputs });
  }
  return { config, segments };
}
