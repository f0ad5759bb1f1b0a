import { QaqError } from '@qaq/errors';
import type { GgufFile } from '@qaq/gguf';
import { defaultAttention, type AttentionEmitter } from './attention.js';
import { readDecoderConfig, type DecoderConfig } from './decoder-config.js';
import { applyRotary, inverseFrequencies, linear, quantizedEmbedding, rmsNorm, rotaryTables, type RotaryTables } from './decoder-ops.js';
import { findTensor, requireTensor } from './gguf-access.js';
import { GraphBuilder } from './onnx/graph-builder.js';
import { attribute, type Dimension } from './onnx/onnx-types.js';
import { llamaRopeRowOrder, type NBitsWeight } from './nbits-weights.js';
import { loadLinearWeight, tensorToFloat32, type LinearWeight, type WeightFormat } from './weight-format.js';

export interface BuildDecoderOptions {
  /** Default 'nbits' (MatMulNBits from the GGUF blocks); 'fp32' dequantizes every matrix. */
  readonly weightFormat?: WeightFormat;
  /** Default false: logits for every new position; true: only the last one ([1, 1, vocab]). */
  readonly lastLogitsOnly?: boolean;
  /** Default: full-precision attention with plain ONNX ops. */
  readonly attention?: AttentionEmitter;
}

export interface TensorDescription {
  readonly name: string;
  readonly elementType: 'float32' | 'int64';
  readonly shape: readonly Dimension[];
}

export interface DecoderModel {
  readonly model: Uint8Array;
  readonly config: DecoderConfig;
  readonly inputs: readonly TensorDescription[];
  readonly outputs: readonly TensorDescription[];
}

/** Opsets: ONNX 21 (Gelu-20, Reshape/Shape slicing), com.microsoft 1 (MatMulNBits). */
export const DECODER_OPSETS = [
  { domain: '', version: 21 },
  { domain: 'com.microsoft', version: 1 },
] as const;

interface LayerTensors {
  readonly name: (suffix: string) => string;
}

class DecoderGraph {
  readonly g: GraphBuilder;
  readonly inputs: TensorDescription[] = [];
  readonly outputs: TensorDescription[] = [];
  private readonly rotary = new Map<string, RotaryTables>();
  private positionIds = '';

  constructor(
    readonly file: GgufFile,
    readonly bytes: Uint8Array,
    readonly config: DecoderConfig,
    readonly format: WeightFormat,
  ) {
    this.g = new GraphBuilder(`${config.architecture}-decoder`);
  }

  input(name: string, elementType: 'float32' | 'int64', shape: readonly Dimension[]): string {
    this.inputs.push({ name, elementType, shape });
    return this.g.input(name, elementType, shape);
  }

  output(value: string, name: string, elementType: 'float32' | 'int64', shape: readonly Dimension[]): void {
    this.outputs.push({ name, elementType, shape });
    this.g.alias(value, name);
    this.g.output(name, elementType, shape);
  }

  vector(tensorName: string): string {
    const tensor = requireTensor(this.file, tensorName);
    return this.g.initializer(tensorName, 'float32', [tensor.elementCount], tensorToFloat32(this.file, this.bytes, tensor));
  }

  linearWeight(tensorName: string, rowOrder?: Int32Array): LinearWeight {
    return loadLinearWeight(this.file, this.bytes, requireTensor(this.file, tensorName), this.format, rowOrder);
  }

  rotaryFor(theta: number, scale: number): RotaryTables {
    const key = `${theta}/${scale}`;
    let tables = this.rotary.get(key);
    if (tables === undefined) {
      const inverse = inverseFrequencies(theta, this.config.headDim, scale);
      tables = this.g.scope(`rope_${theta}`, () =>
        rotaryTables(this.g, this.positionIds, inverse, `rope.${this.rotary.size}`),
      );
      this.rotary.set(key, tables);
    }
    return tables;
  }

  setPositionIds(name: string): void {
    this.positionIds = name;
  }

  get positions(): string {
    return this.positionIds;
  }
}

/**
 * Builds an ONNX decoder for a llama or gemma3 GGUF that computes exactly what Hugging Face transformers computes
 * from the same file. Inputs: input_ids, position_ids [1, S] int64 and past_key.{i}/past_value.{i}
 * [1, P, kvHeads, headDim]; outputs: logits and the new tokens' key.{i}/value.{i} [1, S, kvHeads, headDim].
 */
export function buildDecoderModel(file: GgufFile, bytes: Uint8Array, options: BuildDecoderOptions = {}): DecoderModel {
  const config = readDecoderConfig(file);
  const format = options.weightFormat ?? 'nbits';
  const attention = options.attention ?? defaultAttention;
  const graph = new DecoderGraph(file, bytes, config, format);
  const { g } = graph;
  const { keyValueHeadCount, headDim, queryHeadCount, rmsEpsilon } = config;

  const inputIds = graph.input('input_ids', 'int64', [1, 'sequence']);
  graph.setPositionIds(graph.input('position_ids', 'int64', [1, 'sequence']));
  const pastNames = Array.from({ length: config.layerCount }, (_, layer) => ({
    key: graph.input(`past_key.${layer}`, 'float32', [1, `past_sequence.${layer}`, keyValueHeadCount, headDim]),
    value: graph.input(`past_value.${layer}`, 'float32', [1, `past_sequence.${layer}`, keyValueHeadCount, headDim]),
  }));

  const embeddingTensor = requireTensor(file, 'token_embd.weight');
  // The embedding stays quantized in both formats: (code − zp)·scale reproduces the GGUF values exactly for
  // Q8_0 and a fp32 table of Gemma's 262,144 × 640 vocabulary would take 671 MB.
  const embeddingWeight = loadLinearWeight(file, bytes, embeddingTensor, 'nbits');
  let hidden = g.scope('embedding', () => {
    if (embeddingWeight.kind === 'nbits') return quantizedEmbedding(g, inputIds, embeddingWeight, 'token_embd');
    const table = g.initializer('token_embd.table', 'float32', [embeddingWeight.columns, embeddingWeight.rows], embeddingWeight.transposed);
    return g.op('Gather', [g.op('Transpose', [table], { perm: attribute.ints([1, 0]) }), inputIds], { axis: attribute.int(0) });
  });
  if (config.embeddingScale !== 1) hidden = g.op('Mul', [hidden, g.float32([config.embeddingScale])]);

  const queryRowOrder = config.architecture === 'llama' ? llamaRopeRowOrder(queryHeadCount, headDim) : undefined;
  const keyRowOrder = config.architecture === 'llama' ? llamaRopeRowOrder(keyValueHeadCount, headDim) : undefined;

  for (let layer = 0; layer < config.layerCount; layer++) {
    const tensors: LayerTensors = { name: (suffix) => `blk.${layer}.${suffix}` };
    const kind = config.layerKinds[layer] ?? 'full';
    hidden = g.scope(`layers.${layer}`, () => {
      const residual = hidden;
      const normed = rmsNorm(g, hidden, graph.vector(tensors.name('attn_norm.weight')), rmsEpsilon);
      const project = (suffix: string, heads: number, rowOrder?: Int32Array): string =>
        g.op('Reshape', [
          linear(g, normed, graph.linearWeight(tensors.name(`${suffix}.weight`), rowOrder), tensors.name(suffix)),
          g.int64([1, -1, heads, headDim]),
        ]);
      let query = project('attn_q', queryHeadCount, queryRowOrder);
      let key = project('attn_k', keyValueHeadCount, keyRowOrder);
      const value = project('attn_v', keyValueHeadCount);
      if (config.queryKeyNorm) {
        query = rmsNorm(g, query, graph.vector(tensors.name('attn_q_norm.weight')), rmsEpsilon);
        key = rmsNorm(g, key, graph.vector(tensors.name('attn_k_norm.weight')), rmsEpsilon);
      }
      const tables =
        kind === 'sliding'
          ? graph.rotaryFor(config.ropeLocalTheta, 1)
          : graph.rotaryFor(config.ropeTheta, config.ropeScaleFactor);
      query = applyRotary(g, query, tables, headDim);
      key = applyRotary(g, key, tables, headDim);
      graph.output(key, `key.${layer}`, 'float32', [1, 'sequence', keyValueHeadCount, headDim]);
      graph.output(value, `value.${layer}`, 'float32', [1, 'sequence', keyValueHeadCount, headDim]);
      const past = pastNames[layer]!;
      const attended = g.scope('attention', () =>
        attention({
          builder: g,
          config,
          layer,
          kind,
          query,
          key,
          value,
          pastKey: past.key,
          pastValue: past.value,
          positionIds: graph.positions,
        }),
      );
      let attentionOutput = linear(g, attended, graph.linearWeight(tensors.name('attn_output.weight')), tensors.name('attn_output'));
      if (config.sandwichNorms) {
        attentionOutput = rmsNorm(g, attentionOutput, graph.vector(tensors.name('post_attention_norm.weight')), rmsEpsilon);
      }
      const afterAttention = g.op('Add', [residual, attentionOutput]);
      const mlpInput = rmsNorm(g, afterAttention, graph.vector(tensors.name('ffn_norm.weight')), rmsEpsilon);
      const gate = linear(g, mlpInput, graph.linearWeight(tensors.name('ffn_gate.weight')), tensors.name('ffn_gate'));
      const up = linear(g, mlpInput, graph.linearWeight(tensors.name('ffn_up.weight')), tensors.name('ffn_up'));
      const activated =
        config.activation === 'silu'
          ? g.op('Mul', [gate, g.op('Sigmoid', [gate])])
          : g.op('Gelu', [gate], { approximate: attribute.string('tanh') });
      let mlpOutput = linear(g, g.op('Mul', [activated, up]), graph.linearWeight(tensors.name('ffn_down.weight')), tensors.name('ffn_down'));
      if (config.sandwichNorms) {
        mlpOutput = rmsNorm(g, mlpOutput, graph.vector(tensors.name('post_ffw_norm.weight')), rmsEpsilon);
      }
      return g.op('Add', [afterAttention, mlpOutput]);
    });
  }

  let final = rmsNorm(g, hidden, graph.vector('output_norm.weight'), rmsEpsilon);
  if (options.lastLogitsOnly === true) {
    final = g.op('Slice', [final, g.int64([-1]), g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
  }
  const outputTensor = findTensor(file, 'output.weight');
  let head: LinearWeight;
  if (outputTensor !== undefined) head = graph.linearWeight('output.weight');
  else if (format === 'nbits' && embeddingWeight.kind === 'nbits') head = embeddingWeight;
  else head = loadLinearWeight(file, bytes, embeddingTensor, format);
  const logits = linear(g, final, head, outputTensor !== undefined ? 'output' : 'token_embd');
  graph.output(logits, 'logits', 'float32', [1, options.lastLogitsOnly === true ? 1 : 'sequence', config.vocabSize]);
  checkShape(embeddingWeight, config);

  const model = g.toModel({
    opsetImports: DECODER_OPSETS,
    metadata: { architecture: config.architecture, weightFormat: format },
  });
  return { model, config, inputs: graph.inputs, outputs: graph.outputs };
}

function checkShape(embedding: LinearWeight | NBitsWeight, config: DecoderConfig): void {
  if (embedding.columns !== config.hiddenSize || embedding.rows !== config.vocabSize) {
    throw new QaqError('invalid-gguf-tensor', 'token_embd.weight does not match the hidden and vocabulary sizes', {
      details: { columns: embedding.columns, rows: embedding.rows, hiddenSize: config.hiddenSize, vocabSize: config.vocabSize },
    });
  }
}
