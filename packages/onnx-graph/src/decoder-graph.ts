import { QaqError } from '@qaq/errors';
import type { GgufFile } from '@qaq/gguf';
import type { DecoderConfig, LayerKind } from './decoder-config.js';
import { applyRotary, inverseFrequencies, linear, quantizedEmbedding, rmsNorm, rotaryTables, type RotaryTables } from './decoder-ops.js';
import { findTensor, requireTensor } from './gguf-access.js';
import { GraphBuilder } from './onnx/graph-builder.js';
import { attribute, type Dimension } from './onnx/onnx-types.js';
import { llamaRopeRowOrder } from './nbits-weights.js';
import {
  loadLinearWeight,
  stackRows,
  tensorToFloat32,
  DEFAULT_LINEAR_SETTINGS,
  type LinearSettings,
  type LinearWeight,
  type WeightFormat,
} from './weight-format.js';

export interface TensorDescription {
  readonly name: string;
  readonly elementType: 'float32' | 'int64';
  readonly shape: readonly Dimension[];
}

/** Weights shared by several graphs of one build (the embedding table doubles as a tied lm_head). */
export interface SharedWeights {
  readonly embedding: LinearWeight;
  readonly head: LinearWeight;
  readonly headName: string;
}

export function loadSharedWeights(file: GgufFile, bytes: Uint8Array, config: DecoderConfig, format: WeightFormat): SharedWeights {
  // The embedding stays quantized in both formats: (code − zp)·scale is the GGUF value exactly for Q8_0, and an fp32
  // table of Gemma's 262,144 × 640 vocabulary would take 671 MB.
  const embeddingTensor = requireTensor(file, 'token_embd.weight');
  const embedding = loadLinearWeight(file, bytes, embeddingTensor, 'nbits');
  if (embedding.columns !== config.hiddenSize || embedding.rows !== config.vocabSize) {
    throw new QaqError('invalid-gguf-tensor', 'token_embd.weight does not match the hidden and vocabulary sizes', {
      details: { columns: embedding.columns, rows: embedding.rows, hiddenSize: config.hiddenSize, vocabSize: config.vocabSize },
    });
  }
  const outputTensor = findTensor(file, 'output.weight');
  if (outputTensor !== undefined) {
    return { embedding, head: loadLinearWeight(file, bytes, outputTensor, format), headName: 'output' };
  }
  const head = format === 'nbits' && embedding.kind === 'nbits' ? embedding : loadLinearWeight(file, bytes, embeddingTensor, format);
  return { embedding, head, headName: 'token_embd' };
}

/** The new tokens' attention operands of one layer, [1, S, heads, headDim], after QK-norm and RoPE. */
export interface AttentionOperands {
  readonly query: string;
  readonly key: string;
  readonly value: string;
}

/**
 * One ONNX graph under construction plus the decoder pieces that go into it. The monolithic model uses one of
 * these for everything; split mode uses one per segment (embedding/layer 0, …, layer L−1/lm_head).
 */
export class DecoderGraph {
  readonly g: GraphBuilder;
  readonly inputs: TensorDescription[] = [];
  readonly outputs: TensorDescription[] = [];
  private readonly rotary = new Map<string, RotaryTables>();
  private positionIds: string | undefined;
  private readonly queryRowOrder: Int32Array | undefined;
  private readonly keyRowOrder: Int32Array | undefined;

  constructor(
    name: string,
    readonly file: GgufFile,
    readonly bytes: Uint8Array,
    readonly config: DecoderConfig,
    readonly format: WeightFormat,
    readonly shared: SharedWeights,
    /** Operator and MatMulNBits `accuracy_level` of every 4-bit linear layer (lm_head included). */
    readonly linearSettings: LinearSettings = DEFAULT_LINEAR_SETTINGS,
  ) {
    this.g = new GraphBuilder(name);
    const isLlama = config.architecture === 'llama';
    this.queryRowOrder = isLlama ? llamaRopeRowOrder(config.queryHeadCount, config.headDim) : undefined;
    this.keyRowOrder = isLlama ? llamaRopeRowOrder(config.keyValueHeadCount, config.headDim) : undefined;
  }

  input(name: string, elementType: 'float32' | 'int64', shape: readonly Dimension[]): string {
    this.inputs.push({ name, elementType, shape });
    return this.g.input(name, elementType, shape);
  }

  /** Declares a float32 graph output; returns its name, which replaces `value` from then on. */
  output(value: string, name: string, shape: readonly Dimension[]): string {
    this.outputs.push({ name, elementType: 'float32', shape });
    this.g.rename(value, name);
    this.g.output(name, 'float32', shape);
    return name;
  }

  /** position_ids [1, S] int64, declared on first use. */
  get positions(): string {
    this.positionIds ??= this.input('position_ids', 'int64', [1, 'sequence']);
    return this.positionIds;
  }

  private vector(tensorName: string): string {
    const tensor = requireTensor(this.file, tensorName);
    return this.g.initializer(tensorName, 'float32', [tensor.elementCount], tensorToFloat32(this.file, this.bytes, tensor));
  }

  private load(tensorName: string, rowOrder?: Int32Array): LinearWeight {
    return loadLinearWeight(this.file, this.bytes, requireTensor(this.file, `${tensorName}.weight`), this.format, rowOrder);
  }

  private linear(input: string, tensorName: string, rowOrder?: Int32Array): string {
    return linear(this.g, input, this.load(tensorName, rowOrder), tensorName, this.linearSettings);
  }

  /** Several projections of one input; stacked into a single matrix product and split when layouts allow. */
  private projections(input: string, tensorNames: readonly string[], rowOrders: readonly (Int32Array | undefined)[]): string[] {
    const weights = tensorNames.map((name, index) => this.load(name, rowOrders[index]));
    const stacked = stackRows(weights);
    if (stacked === undefined) {
      return weights.map((weight, index) => linear(this.g, input, weight, tensorNames[index]!, this.linearSettings));
    }
    const product = linear(this.g, input, stacked, tensorNames.join('+'), this.linearSettings);
    return this.g.node('Split', [product, this.g.int64(weights.map((weight) => weight.rows))], { axis: attribute.int(-1) }, {
      outputCount: weights.length,
    });
  }

  private norm(input: string, tensorName: string): string {
    return rmsNorm(this.g, input, this.vector(tensorName), this.config.rmsEpsilon);
  }

  private rotaryFor(kind: LayerKind): RotaryTables {
    const theta = kind === 'sliding' ? this.config.ropeLocalTheta : this.config.ropeTheta;
    const scale = kind === 'sliding' ? 1 : this.config.ropeScaleFactor;
    const key = `${theta}/${scale}`;
    let tables = this.rotary.get(key);
    if (tables === undefined) {
      const inverse = inverseFrequencies(theta, this.config.headDim, scale);
      const name = `rope.${this.rotary.size}`;
      tables = this.g.scope(name, () => rotaryTables(this.g, this.positions, inverse, name));
      this.rotary.set(key, tables);
    }
    return tables;
  }

  /** input_ids → scaled embeddings [1, S, hidden]. */
  embed(): string {
    const g = this.g;
    const inputIds = this.input('input_ids', 'int64', [1, 'sequence']);
    const weight = this.shared.embedding;
    const hidden = g.scope('embedding', () => {
      if (weight.kind === 'nbits') return quantizedEmbedding(g, inputIds, weight, 'token_embd');
      const table = g.initializer('token_embd.table', 'float32', [weight.columns, weight.rows], weight.transposed);
      return g.op('Gather', [g.op('Transpose', [table], { perm: attribute.ints([1, 0]) }), inputIds], {
        axis: attribute.int(0),
      });
    });
    const scale = this.config.embeddingScale;
    return scale === 1 ? hidden : g.op('Mul', [hidden, g.float32([scale])]);
  }

  /** Input norm, Q/K/V projections, Gemma's QK-norm and RoPE of layer `layer`. */
  attentionOperands(layer: number, hidden: string): AttentionOperands {
    const { g, config } = this;
    const { headDim } = config;
    return g.scope(`layers.${layer}`, () => {
      const name = (suffix: string): string => `blk.${layer}.${suffix}`;
      const normed = this.norm(hidden, name('attn_norm.weight'));
      const [queryFlat, keyFlat, valueFlat] = this.projections(
        normed,
        [name('attn_q'), name('attn_k'), name('attn_v')],
        [this.queryRowOrder, this.keyRowOrder, undefined],
      );
      const heads = (flat: string | undefined, count: number): string =>
        g.op('Reshape', [flat!, g.int64([1, -1, count, headDim])]);
      let query = heads(queryFlat, config.queryHeadCount);
      let key = heads(keyFlat, config.keyValueHeadCount);
      const value = heads(valueFlat, config.keyValueHeadCount);
      if (config.queryKeyNorm) {
        query = this.norm(query, name('attn_q_norm.weight'));
        key = this.norm(key, name('attn_k_norm.weight'));
      }
      const tables = this.rotaryFor(config.layerKinds[layer] ?? 'full');
      return { query: applyRotary(g, query, tables, headDim), key: applyRotary(g, key, tables, headDim), value };
    });
  }

  /** o_proj (+ post-attention norm), residual, MLP (+ post-MLP norm), residual. */
  afterAttention(layer: number, residual: string, attended: string): string {
    const { g, config } = this;
    return g.scope(`layers.${layer}`, () => {
      const name = (suffix: string): string => `blk.${layer}.${suffix}`;
      let attentionOutput = this.linear(attended, name('attn_output'));
      if (config.sandwichNorms) attentionOutput = this.norm(attentionOutput, name('post_attention_norm.weight'));
      const afterAttention = g.op('Add', [residual, attentionOutput]);
      const mlpInput = this.norm(afterAttention, name('ffn_norm.weight'));
      const [gate, up] = this.projections(mlpInput, [name('ffn_gate'), name('ffn_up')], [undefined, undefined]) as [string, string];
      const activated =
        config.activation === 'silu'
          ? g.op('Mul', [gate, g.op('Sigmoid', [gate])])
          : g.op('Gelu', [gate], { approximate: attribute.string('tanh') });
      let mlpOutput = this.linear(g.op('Mul', [activated, up]), name('ffn_down'));
      if (config.sandwichNorms) mlpOutput = this.norm(mlpOutput, name('post_ffw_norm.weight'));
      return g.op('Add', [afterAttention, mlpOutput]);
    });
  }

  /** Final norm and lm_head; declares the `logits` output. */
  logits(hidden: string, lastOnly: boolean): void {
    const g = this.g;
    let final = this.norm(hidden, 'output_norm.weight');
    if (lastOnly) final = g.op('Slice', [final, g.int64([-1]), g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
    const logits = linear(g, final, this.shared.head, this.shared.headName, this.linearSettings);
    this.output(logits, 'logits', [1, lastOnly ? 1 : 'sequence', this.config.vocabSize]);
  }
}
