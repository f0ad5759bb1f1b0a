import { QaqError } from '@qaq/errors';
import { GraphBuilder } from './onnx/graph-builder.js';
import { attribute, type ElementType, type ValueInfo } from './onnx/onnx-types.js';

/**
 * One layer's attention over the compact QAQ cache (@qaq/kv-cache's storage, fed as it is stored) as an ONNX graph of
 * ops that have kernels on the CPU, CUDA and WebGPU execution providers (see `execution-provider-kernels.ts`): no
 * BitShift/Bitwise*, no uint8 Cast or Gather (WebGPU has neither), no int64 arithmetic, no ScatterElements.
 *
 * Per kind (keys, values) and bit width B the graph takes the pool's arrays at their full capacity N_B: packed codes
 * (uint8 [N_B, ⌈L·B/8⌉], LSB-first), fp16 minimum and step (float16 [N_B, 2]), fp16 outlier values and their
 * positions (uint8 bytes), and for the 16-bit pool (the recent window) fp16 values [N_B, L]; plus the per-group
 * bit-width tags (uint8 [G]) and slot indices (their bytes, uint8 [G, 2|4]) and a 17-entry table of where each
 * width's slots start in the concatenation of the pools. Bytes enter as floats through DequantizeLinear (scale 1),
 * the one op that reads uint8 on every provider; codes are unpacked with exact float arithmetic
 * (c = ⌊w·2^−s⌋ − 2^B·⌊w·2^−(s+B)⌋ on a 16-bit window w of two bytes) and never dequantized: the "factored" form
 *
 *   score = scoreScale·(s_t·(q·c_t) + (m_t + s_t/2)·Σq),   out = (p·s)·C + p·(m + s/2)
 *
 * applies per-group steps and biases on [heads, 1, T] tensors. An outlier at position j of a group replaces code
 * c_j by the fractional code (v − m − s/2)/s, which reconstructs v exactly (Equal + Where, one pass per outlier
 * slot). Groups are gathered into token order by their flat slot index (table[tag] + slot), so the softmax spans
 * every pool and the recent window, and the statistics come back per token position.
 *
 * Transient full-precision data is one layer's codes as floats (what the graph attends over), never the cache.
 */

/** Group layout of the cache (@qaq/policy's GroupLayout). */
export type CompactGroupLayout = 'token-layer-head' | 'token-layer';

/** Pools of one kind (keys or values) the graph reads. */
export interface CompactKindLayout {
  /** Bit widths whose pools are fed, ascending: 1..8 packed, 16 = fp16 values. Widths holding no group may be left out. */
  readonly poolBits: readonly number[];
  /** Bytes of one slot index: 2 while every index fits 16 bits, 4 once widened. */
  readonly slotIndexBytes: 2 | 4;
}

export interface CompactAttentionGraphOptions {
  readonly queryHeads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly groupLayout: CompactGroupLayout;
  /** Outliers per packed group (both sides together); 0 for none. */
  readonly outlierCount: number;
  /** Bytes per outlier position: 1 for groups of ≤ 256 elements, else 2. */
  readonly outlierPositionBytes: 1 | 2;
  /** The model's score scale c. */
  readonly scoreScale: number;
  /** Sliding-window attention: a query at position p sees tokens p − window < t ≤ p (as referenceAttentionMulti, also for a fractional window). Null: causal only. */
  readonly slidingWindow: number | null;
  readonly keys: CompactKindLayout;
  readonly values: CompactKindLayout;
  /**
   * Element type of the cache's fp16 arrays as fed (parameters, outlier values, the 16-bit pool's values):
   * 'float16' (default) — the stored bits, cast to float32 in the graph; 'float32' — the caller widens them first
   * (one layer at a time) and the graph has no float16 tensor at all, for WebGPU devices without `shader-f16`
   * (SwiftShader, some mobile GPUs), where onnxruntime's fp16 kernels refuse to run. Packed codes stay uint8.
   */
  readonly halfPrecisionInputs?: HalfPrecisionInputs;
}

/** How the fp16 arrays of the cache enter the graph (see `CompactAttentionGraphOptions.halfPrecisionInputs`). */
export type HalfPrecisionInputs = 'float16' | 'float32';

export interface CompactAttentionGraph {
  readonly model: Uint8Array;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly nodeCount: number;
}

/** ONNX opset of the graph: every op's kernel range on CPU, CUDA and WebGPU covers it (opset 21 would not, for Transpose on WebGPU). */
export const COMPACT_ATTENTION_OPSET = 20;

export type CompactKind = 'keys' | 'values';
export type CompactPoolField = 'codes' | 'parameters' | 'outlier_values' | 'outlier_positions';

/** Input names: `query`, `<kind>.bit_widths`, `<kind>.slot_bytes`, `<kind>.pool_offsets`, `<kind>.<field>.<bits>`. */
export const compactAttentionInput = {
  query: 'query',
  bitWidths: (kind: CompactKind): string => `${kind}.bit_widths`,
  slotBytes: (kind: CompactKind): string => `${kind}.slot_bytes`,
  poolOffsets: (kind: CompactKind): string => `${kind}.pool_offsets`,
  pool: (kind: CompactKind, field: CompactPoolField, bits: number): string => `${kind}.${field}.${bits}`,
} as const;

export const compactAttentionOutput = {
  /** float32 [S, queryHeads · headDim]. */
  attention: 'attention',
  /** float32 [S, kvHeads, T]: per query and token, the largest probability over the query heads of each KV head. */
  maxProbabilities: 'max_probabilities',
} as const;

/** Entries of the pool-offset table: indexed by bit-width tag 0..16. */
export const POOL_OFFSET_TABLE_LENGTH = 17;

const MASKED_SCORE = -3.4028234663852886e38;

function invalid(message: string, details: Record<string, unknown>): never {
  throw new QaqError('invalid-graph-options', message, { details });
}

function validate(options: CompactAttentionGraphOptions): void {
  const { queryHeads, kvHeads, headDim, outlierCount, outlierPositionBytes, scoreScale, slidingWindow } = options;
  for (const [name, value] of Object.entries({ queryHeads, kvHeads, headDim })) {
    if (!Number.isInteger(value) || value < 1) invalid(`${name} must be a positive integer`, { [name]: value });
  }
  if (queryHeads % kvHeads !== 0) invalid('queryHeads must be a multiple of kvHeads', { queryHeads, kvHeads });
  if (!Number.isInteger(outlierCount) || outlierCount < 0) invalid('outlierCount must be an integer ≥ 0', { outlierCount });
  if (outlierPositionBytes !== 1 && outlierPositionBytes !== 2) invalid('outlierPositionBytes must be 1 or 2', { outlierPositionBytes });
  if (!(Number.isFinite(scoreScale) && scoreScale > 0)) invalid('scoreScale must be finite and > 0', { scoreScale });
  if (slidingWindow !== null && !(Number.isFinite(slidingWindow) && slidingWindow >= 1)) {
    invalid('slidingWindow must be finite and ≥ 1, or null', { slidingWindow });
  }
  for (const kind of ['keys', 'values'] as const) {
    const { poolBits, slotIndexBytes } = options[kind];
    if (poolBits.length === 0) invalid(`${kind}: at least one pool`, { poolBits });
    let previous = 0;
    for (const bits of poolBits) {
      // Ascending, so the 16-bit pool (no outlier arrays) comes last in the concatenation.
      if (!((Number.isInteger(bits) && bits >= 1 && bits <= 8) || bits === 16) || bits <= previous) {
        invalid(`${kind}: pool widths must be ascending distinct values in 1..8 or 16`, { poolBits });
      }
      previous = bits;
    }
    if (slotIndexBytes !== 2 && slotIndexBytes !== 4) invalid(`${kind}: slotIndexBytes must be 2 or 4`, { slotIndexBytes });
  }
  const { halfPrecisionInputs } = options;
  if (halfPrecisionInputs !== undefined && halfPrecisionInputs !== 'float16' && halfPrecisionInputs !== 'float32') {
    invalid("halfPrecisionInputs must be 'float16' or 'float32'", { halfPrecisionInputs });
  }
}

/** Per kind: one layer's codes in token order, and the step and bias of every group. */
interface GatheredKind {
  /** [kvHeads, T, headDim] float codes (fp16 values for 16-bit groups; outliers as fractional codes). */
  readonly codes: string;
  /** [kvHeads | 1, T, 1]: the step s of each group (1 for fp16 groups). */
  readonly scale: string;
  /** [kvHeads | 1, T, 1]: m + s/2 of each group (0 for fp16 groups). */
  readonly bias: string;
  /** [G] float bit-width tags (token-major). */
  readonly tags: string;
  /** With outliers: where they sit and how far their fractional codes are from the stored codes. */
  readonly outliers: OutlierCorrection | null;
}

/**
 * Outliers as a sparse correction: outlier o of group (h, t) at element j replaces code c_j by the fractional
 * code c′ = (v − m − s/2)/s, which reconstructs v exactly; the graph adds Δ = c′ − c_j through small matmuls with
 * a one-hot map instead of rewriting the codes tensor.
 */
interface OutlierCorrection {
  /** [kvHeads, T·O, headDim] float one-hot: row (t, o) has a 1 at the outlier's element (none for fp16 groups). */
  readonly oneHot: string;
  /** [kvHeads | 1, T, O]: c′ − c at each outlier. */
  readonly delta: string;
}

class CompactAttentionBuilder {
  readonly g = new GraphBuilder('qaq-compact-attention');
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly groupLength: number;
  readonly groupsPerToken: number;
  readonly halfPrecisionInputs: HalfPrecisionInputs;

  constructor(readonly options: CompactAttentionGraphOptions) {
    const { kvHeads, headDim, groupLayout } = options;
    this.groupLength = groupLayout === 'token-layer-head' ? headDim : kvHeads * headDim;
    this.groupsPerToken = groupLayout === 'token-layer-head' ? kvHeads : 1;
    this.halfPrecisionInputs = options.halfPrecisionInputs ?? 'float16';
  }

  /** An input holding one of the cache's fp16 arrays: float16 bits cast to float32 here, or float32 already widened. */
  halfPrecisionInput(name: string, shape: readonly (number | string)[]): string {
    if (this.halfPrecisionInputs === 'float32') return this.input(name, 'float32', shape);
    return this.g.op('Cast', [this.input(name, 'float16', shape)], { to: attribute.int(1) });
  }

  /** Several fp16 arrays concatenated along axis 0, as float32 (one Cast after the Concat in float16 mode). */
  halfPrecisionConcat(inputs: readonly { name: string; shape: readonly (number | string)[] }[]): string {
    const g = this.g;
    const type: ElementType = this.halfPrecisionInputs === 'float32' ? 'float32' : 'float16';
    const values = inputs.map(({ name, shape }) => this.input(name, type, shape));
    const joined = values.length === 1 ? (values[0] as string) : g.op('Concat', values, { axis: attribute.int(0) });
    return type === 'float32' ? joined : g.op('Cast', [joined], { to: attribute.int(1) });
  }

  input(name: string, elementType: ElementType, shape: readonly (number | string)[]): string {
    this.inputs.push({ name, elementType, shape });
    return this.g.input(name, elementType, shape);
  }

  output(value: string, name: string, shape: readonly (number | string)[]): string {
    this.outputs.push({ name, elementType: 'float32', shape });
    const renamed = this.g.rename(value, name);
    this.g.output(name, 'float32', shape);
    return renamed;
  }

  int32(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = `int32_${values.join('_')}_${dims.join('x')}`;
    return this.g.initializerOnce(name, 'int32', dims, () => Int32Array.from(values));
  }

  floats(name: string, values: readonly number[], dims: readonly number[]): string {
    return this.g.initializerOnce(name, 'float32', dims, () => Float32Array.from(values));
  }

  /** uint8 → float32 exactly (DequantizeLinear, scale 1: the uint8 reader every provider has). */
  bytesToFloat(value: string): string {
    return this.g.op('DequantizeLinear', [value, this.g.float32([1])]);
  }

  /** Column `index` of a [N, C] tensor as [N, 1]. */
  column(value: string, index: number): string {
    return this.g.op('Gather', [value, this.int32([index])], { axis: attribute.int(1) });
  }

  reshape(value: string, shape: readonly number[]): string {
    return this.g.op('Reshape', [value, this.g.int64(shape)]);
  }

  /**
   * The float codes [N, L] of a packed pool: code i of a slot sits at stream bits [i·B, (i+1)·B), byte k = ⌊i·B/8⌋,
   * shift s = i·B mod 8. With w = byte_k (+ 256·byte_{k+1} when the code straddles bytes), c = ⌊w·2^−s⌋ −
   * 2^B·⌊w·2^−(s+B)⌋. Both w·2^−s and w·2^−(s+B) are products of the bytes [N, CB] with a constant [CB, L] matrix
   * holding at most two powers of two per column, so two MatMuls compute them exactly (every partial sum is an
   * integer multiple of 2^−(s+B) below 2^16: exact in float32, and in TF32 too) — a Gather along the byte axis costs
   * one copy per element on the CPU provider instead.
   */
  unpack(bytes: string, bits: number): string {
    const g = this.g;
    const length = this.groupLength;
    const codeBytes = Math.ceil((length * bits) / 8);
    if (bits === 8) return bytes;
    // x = w·2^−(s+B) = bytes · M (M: [CB, L], at most two powers of two per column); c = ⌊(x − ⌊x⌋)·2^B⌋.
    const weights = new Float32Array(codeBytes * length);
    for (let index = 0; index < length; index += 1) {
      const bit = index * bits;
      const byte = Math.floor(bit / 8);
      const shift = bit % 8;
      weights[byte * length + index] = 2 ** -(shift + bits);
      if (shift + bits > 8) weights[(byte + 1) * length + index] = 2 ** (8 - shift - bits);
    }
    const scaled = g.op('MatMul', [bytes, g.initializerOnce(`unpack_${bits}_${length}`, 'float32', [codeBytes, length], () => weights)]);
    const fraction = g.op('Sub', [scaled, g.op('Floor', [scaled])]);
    return g.op('Floor', [g.op('Mul', [fraction, g.float32([2 ** bits])])]);
  }

  /** One pool's codes as floats [N, L]: unpacked codes, or the fp16 values of the 16-bit pool. */
  poolCodes(kind: CompactKind, bits: number): string {
    const length = this.groupLength;
    const slots = `${kind}_slots_${bits}`;
    if (bits === 16) return this.halfPrecisionInput(compactAttentionInput.pool(kind, 'codes', bits), [slots, length]);
    const codeBytes = Math.ceil((length * bits) / 8);
    return this.unpack(this.bytesToFloat(this.input(compactAttentionInput.pool(kind, 'codes', bits), 'uint8', [slots, codeBytes])), bits);
  }

  /**
   * All pools of a kind in token order. Pools are concatenated in ascending width (the 16-bit pool last), and a
   * group's row is table[tag] + slot. Codes, parameters and outliers are gathered by that row; everything after
   * the per-pool unpacking runs on [heads, T, ·] tensors, whatever the number of pools.
   */
  gather(kind: CompactKind): GatheredKind {
    const g = this.g;
    const { kvHeads, headDim, groupLayout, outlierCount, outlierPositionBytes } = this.options;
    const layout = this.options[kind];
    const length = this.groupLength;
    const concat = (parts: string[]): string => (parts.length === 1 ? (parts[0] as string) : g.op('Concat', parts, { axis: attribute.int(0) }));
    const allCodes = concat(layout.poolBits.map((bits) => this.poolCodes(kind, bits)));
    const allParameters = this.halfPrecisionConcat(
      layout.poolBits.map((bits) => ({ name: compactAttentionInput.pool(kind, 'parameters', bits), shape: [`${kind}_slots_${bits}`, 2] })),
    );
    const tags = this.bytesToFloat(this.input(compactAttentionInput.bitWidths(kind), 'uint8', ['groups']));
    const offsets = this.input(compactAttentionInput.poolOffsets(kind), 'float32', [POOL_OFFSET_TABLE_LENGTH]);
    const base = g.op('Gather', [offsets, g.op('Cast', [tags], { to: attribute.int(6) })], { axis: attribute.int(0) });
    const slotBytes = this.bytesToFloat(this.input(compactAttentionInput.slotBytes(kind), 'uint8', ['groups', layout.slotIndexBytes]));
    const byteWeights = layout.slotIndexBytes === 2 ? [1, 256] : [1, 256, 65536, 16777216];
    const slots = this.reshape(g.op('MatMul', [slotBytes, this.floats(`little_endian_u${8 * layout.slotIndexBytes}`, byteWeights, [layout.slotIndexBytes, 1])]), [-1]);
    // [H, T] with H = kvHeads (a group per head) or 1 (a group per token): rows and tags per group.
    const perHead = groupLayout === 'token-layer-head';
    const arrange = (value: string): string => (perHead ? g.op('Transpose', [this.reshape(value, [-1, kvHeads])], { perm: attribute.ints([1, 0]) }) : this.reshape(value, [1, -1]));
    const rows = arrange(g.op('Cast', [g.op('Add', [base, slots])], { to: attribute.int(6) })); // int32 [H, T]
    const fp16 = g.op('Equal', [arrange(tags), g.float32([16])]); // [H, T]
    const fp16Column = g.op('Unsqueeze', [fp16, g.int64([2])]); // [H, T, 1]
    const [minimum, step] = g.node('Split', [g.op('Gather', [allParameters, rows], { axis: attribute.int(0) })], { axis: attribute.int(2), num_outputs: attribute.int(2) }, { outputCount: 2 }) as [string, string];
    // fp16 groups: step 1, bias 0 (their parameters hold the policy's range, not a quantizer's).
    const scale = g.op('Where', [fp16Column, g.float32([1]), step]);
    const bias = g.op('Where', [fp16Column, g.float32([0]), g.op('Add', [minimum, g.op('Mul', [step, g.float32([0.5])])])]);
    let codes = g.op('Gather', [allCodes, rows], { axis: attribute.int(0) }); // [H, T, L]
    const packed = layout.poolBits.filter((bits) => bits !== 16);
    let outliers: OutlierCorrection | null = null;
    if (outlierCount > 0 && packed.length > 0) {
      // Outliers of packed pools only (the 16-bit pool, last, has none): fp16 groups read row 0 and are masked.
      const values = this.halfPrecisionConcat(
        packed.map((bits) => ({ name: compactAttentionInput.pool(kind, 'outlier_values', bits), shape: [`${kind}_slots_${bits}`, outlierCount] })),
      );
      // uint8 has no Concat kernel on WebGPU: each pool's bytes become floats first.
      const positionBytes = concat(
        packed.map((bits) =>
          this.bytesToFloat(this.input(compactAttentionInput.pool(kind, 'outlier_positions', bits), 'uint8', [`${kind}_slots_${bits}`, outlierCount * outlierPositionBytes])),
        ),
      );
      const positions =
        outlierPositionBytes === 1
          ? positionBytes
          : this.reshape(g.op('MatMul', [this.reshape(positionBytes, [-1, outlierCount, 2]), this.floats('little_endian_u16', [1, 256], [2, 1])]), [-1, outlierCount]);
      const packedRows = g.op('Where', [fp16, this.int32([0], []), rows]);
      const groupValues = g.op('Gather', [values, packedRows], { axis: attribute.int(0) }); // [H, T, O]
      const groupPositions = g.op('Where', [fp16Column, g.float32([-1]), g.op('Gather', [positions, packedRows], { axis: attribute.int(0) })]);
      const fractional = g.op('Div', [g.op('Sub', [groupValues, bias]), scale]);
      // −1 (fp16 groups) reads the last element: finite, and its one-hot row is all zero.
      const stored = g.op('GatherElements', [codes, g.op('Cast', [groupPositions], { to: attribute.int(6) })], { axis: attribute.int(2) });
      const elementIndex = this.floats(`element_index_${length}`, Array.from({ length }, (_, index) => index), [1, 1, 1, length]);
      const hit = g.op('Cast', [g.op('Equal', [g.op('Unsqueeze', [groupPositions, g.int64([3])]), elementIndex])], { to: attribute.int(1) }); // [H, T, O, L]
      const oneHot = perHead
        ? this.reshape(hit, [kvHeads, -1, headDim])
        : g.op('Transpose', [this.reshape(hit, [-1, kvHeads, headDim])], { perm: attribute.ints([1, 0, 2]) });
      outliers = { oneHot, delta: g.op('Sub', [fractional, stored]) };
    }
    if (!perHead) codes = g.op('Transpose', [this.reshape(codes, [-1, kvHeads, headDim])], { perm: attribute.ints([1, 0, 2]) });
    return { codes, scale, bias, tags, outliers };
  }

  /**
   * Additive mask [S, T] (0 visible, fp32 minimum hidden): token t is visible to query s (position T − S + s) when
   * t ≤ T − S + s and, with a window, t > T − S + s − window. Positions come from CumSum over ones derived from
   * finite inputs, so no shape arithmetic (int64, CPU-only on WebGPU) is needed.
   */
  mask(tags: string, query: string): string {
    const g = this.g;
    const { slidingWindow } = this.options;
    const perToken = this.reshape(tags, [-1, this.groupsPerToken]);
    const tokenOnes = this.reshape(g.op('Add', [g.op('Mul', [this.column(perToken, 0), g.float32([0])]), g.float32([1])]), [1, -1]); // [1, T]
    const keyPositions = g.op('CumSum', [tokenOnes, this.int32([1], [])], { exclusive: attribute.int(1) }); // [1, T]: 0..T−1
    const tokenCount = g.op('ReduceSum', [tokenOnes, g.int64([1])], { keepdims: attribute.int(1) }); // [1, 1]
    const queryColumn = this.reshape(g.op('Gather', [this.reshape(query, [0, -1]), this.int32([0])], { axis: attribute.int(1) }), [-1, 1]); // [S, 1]
    const queryOnes = g.op('Add', [g.op('Mul', [queryColumn, g.float32([0])]), g.float32([1])]);
    const fromEnd = g.op('CumSum', [queryOnes, this.int32([0], [])], { exclusive: attribute.int(1), reverse: attribute.int(1) }); // S−1−s
    const queryPositions = g.op('Sub', [g.op('Sub', [tokenCount, g.float32([1])]), fromEnd]); // [S, 1]
    let bias = g.op('Where', [g.op('LessOrEqual', [keyPositions, queryPositions]), g.float32([0]), g.float32([MASKED_SCORE])]);
    if (slidingWindow !== null) {
      const inWindow = g.op('Greater', [keyPositions, g.op('Sub', [queryPositions, g.float32([slidingWindow])])]);
      bias = g.op('Where', [inWindow, bias, g.float32([MASKED_SCORE])]);
    }
    return bias;
  }

  build(): CompactAttentionGraph {
    const g = this.g;
    const { queryHeads, kvHeads, headDim, scoreScale } = this.options;
    const group = queryHeads / kvHeads;
    const query = this.input(compactAttentionInput.query, 'float32', ['query_length', queryHeads, headDim]);
    const keys = g.scope('keys', () => this.gather('keys'));
    const values = g.scope('values', () => this.gather('values'));
    // q: [S, qH, D] → [S, kvH, G, D] → [kvH, G, S, D], pre-scaled by c.
    const scaled = g.op('Mul', [
      g.op('Transpose', [this.reshape(query, [-1, kvHeads, group, headDim])], { perm: attribute.ints([1, 2, 0, 3]) }),
      g.float32([scoreScale]),
    ]);
    const querySums = g.op('ReduceSum', [scaled, g.int64([-1])], { keepdims: attribute.int(1) }); // [kvH, G, S, 1]
    const perHead = (value: string, axis: number): string => g.op('Unsqueeze', [value, g.int64([axis])]);
    const heads = this.groupsPerToken;
    // Keys: [kvH, T, D] → [kvH, 1, D, T]; steps and biases [H, T, 1] → [H, 1, 1, T].
    const keyCodes = perHead(g.op('Transpose', [keys.codes], { perm: attribute.ints([0, 2, 1]) }), 1);
    const keyScale = this.reshape(keys.scale, [heads, 1, 1, -1]);
    const keyBias = this.reshape(keys.bias, [heads, 1, 1, -1]);
    let products = g.op('MatMul', [scaled, keyCodes]); // [kvH, G, S, T]
    const { outlierCount } = this.options;
    const outlierDelta = (delta: string): string => this.reshape(delta, [heads, 1, 1, -1, outlierCount]); // [H, 1, 1, T, O]
    if (keys.outliers !== null) {
      // Σ_o q[j_o]·Δ_o: q against the one-hot map gives q[j_o] for every (t, o).
      const picked = g.op('MatMul', [scaled, perHead(g.op('Transpose', [keys.outliers.oneHot], { perm: attribute.ints([0, 2, 1]) }), 1)]); // [kvH, G, S, T·O]
      const perOutlier = g.op('Mul', [this.reshape(picked, [0, 0, 0, -1, outlierCount]), outlierDelta(keys.outliers.delta)]);
      products = g.op('Add', [products, g.op('ReduceSum', [perOutlier, g.int64([-1])], { keepdims: attribute.int(0) })]);
    }
    const scores = g.op('Add', [g.op('Mul', [products, keyScale]), g.op('Mul', [querySums, keyBias])]);
    const masked = g.op('Add', [scores, this.mask(keys.tags, query)]);
    const probabilities = g.op('Softmax', [masked], { axis: attribute.int(-1) }); // [kvH, G, S, T]
    const maxima = g.op('ReduceMax', [probabilities, g.int64([1])], { keepdims: attribute.int(0) }); // [kvH, S, T]
    this.output(g.op('Transpose', [maxima], { perm: attribute.ints([1, 0, 2]) }), compactAttentionOutput.maxProbabilities, [
      'query_length',
      kvHeads,
      'token_count',
    ]);
    // Values: out = (p·s)·C + p·(m + s/2).
    const weighted = g.op('Mul', [probabilities, this.reshape(values.scale, [heads, 1, 1, -1])]);
    let codePart = g.op('MatMul', [weighted, perHead(values.codes, 1)]); // [kvH, G, S, D]
    if (values.outliers !== null) {
      // Σ_t Σ_o p·s·Δ_o at element j_o: the weights per (t, o) against the one-hot map.
      const perOutlier = g.op('Mul', [g.op('Unsqueeze', [weighted, g.int64([4])]), outlierDelta(values.outliers.delta)]); // [kvH, G, S, T, O]
      codePart = g.op('Add', [codePart, g.op('MatMul', [this.reshape(perOutlier, [0, 0, 0, -1]), perHead(values.outliers.oneHot, 1)])]);
    }
    const biasPart = g.op('MatMul', [probabilities, perHead(values.bias, 1)]); // [kvH, G, S, 1]
    const attended = g.op('Add', [codePart, biasPart]);
    const byToken = g.op('Transpose', [attended], { perm: attribute.ints([2, 0, 1, 3]) }); // [S, kvH, G, D]
    this.output(this.reshape(byToken, [-1, queryHeads * headDim]), compactAttentionOutput.attention, ['query_length', queryHeads * headDim]);
    const model = g.toModel({ opsetImports: [{ domain: '', version: COMPACT_ATTENTION_OPSET }] });
    return { model, inputs: this.inputs, outputs: this.outputs, nodeCount: g.nodeCount };
  }
}

/** Builds the attention graph for one layer shape and one set of pools (see the file comment). */
export function buildCompactAttentionGraph(options: CompactAttentionGraphOptions): CompactAttentionGraph {
  validate(options);
  return new CompactAttentionBuilder(options).build();
}
