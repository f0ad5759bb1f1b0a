import { attribute } from './onnx/onnx-types.js';
import type { GraphBuilder } from './onnx/graph-builder.js';
import { DEFAULT_LINEAR_SETTINGS, type LinearSettings, type LinearWeight } from './weight-format.js';
import type { NBitsWeight } from './nbits-weights.js';

/** The largest finite fp32, negated: the masked-score value (HF eager uses torch.finfo(float32).min too). */
export const MASKED_SCORE = -3.4028234663852886e38;

/**
 * HF RMSNorm in fp32: x / √(mean(x²) + ε) · w (GGUF stores Gemma's weight already as 1 + w). Written as
 * Pow → ReduceMean → Add → Sqrt → Div → Mul so onnxruntime fuses it into one SimplifiedLayerNormalization.
 */
export function rmsNorm(g: GraphBuilder, input: string, weight: string, epsilon: number): string {
  const square = g.op('Pow', [input, g.float32([2])]);
  const mean = g.op('ReduceMean', [square, g.int64([-1])], { keepdims: attribute.int(1) });
  const root = g.op('Sqrt', [g.op('Add', [mean, g.float32([epsilon])])]);
  return g.op('Mul', [g.op('Div', [input, root]), weight]);
}

/**
 * Adds the initializers of a linear weight under `name` and returns x·Wᵀ. `settings` chooses the operator of
 * quantized weights and MatMulNBits' `accuracy_level` (both ignored for dense weights).
 */
export function linear(
  g: GraphBuilder,
  input: string,
  weight: LinearWeight,
  name: string,
  settings: LinearSettings = DEFAULT_LINEAR_SETTINGS,
): string {
  if (weight.kind === 'dense') {
    const matrix = g.initializer(`${name}.weight`, 'float32', [weight.columns, weight.rows], weight.transposed);
    return g.op('MatMul', [input, matrix]);
  }
  const initializers = nbitsInitializers(g, weight, name);
  let output = '';
  weight.parts.forEach((_, index) => {
    const product =
      settings.nbitsOperator === 'dequantize-linear'
        ? dequantizedProduct(g, input, weight, name, index)
        : g.op(
            'MatMulNBits',
            [input, initializers.packed(index), initializers.scales(index), initializers.zeroPoints(index)],
            {
              K: attribute.int(weight.columns),
              N: attribute.int(weight.rows),
              bits: attribute.int(4),
              block_size: attribute.int(weight.blockSize),
              accuracy_level: attribute.int(settings.accuracyLevel),
            },
            { domain: 'com.microsoft' },
          );
    output = index === 0 ? product : g.op('Add', [output, product]);
  });
  const correction = initializers.correction();
  if (correction !== null) {
    // Σ_b correction[n, b] · Σ_{k∈b} x_k: block sums of x (a MatMul with a 0/1 [K, blocks] matrix) times the
    // [blocks, N] residuals.
    const blocksPerRow = weight.columns / weight.blockSize;
    const indicator = g.initializerOnce(`block_sums.${weight.columns}x${weight.blockSize}`, 'float32', [weight.columns, blocksPerRow], () => {
      const ones = new Float32Array(weight.columns * blocksPerRow);
      for (let column = 0; column < weight.columns; column++) ones[column * blocksPerRow + Math.floor(column / weight.blockSize)] = 1;
      return ones;
    });
    const blockSums = g.op('MatMul', [input, indicator]);
    const residuals = g.op('Transpose', [correction], { perm: attribute.ints([1, 0]) });
    output = g.op('Add', [output, g.op('MatMul', [blockSums, residuals])]);
  }
  return output;
}

/**
 * x · Wᵀ for one part of a 4-bit weight through DequantizeLinear: MatMulNBits' packed codes [N, blocks, blockSize/2]
 * are ONNX uint4 [N, K] byte for byte (even element in the low nibble); scales become [N, blocks]; the zero points,
 * padded per row for MatMulNBits, are repacked contiguously as uint4 [N, blocks].
 */
function dequantizedProduct(g: GraphBuilder, input: string, weight: NBitsWeight, name: string, index: number): string {
  const blocksPerRow = weight.columns / weight.blockSize;
  const part = weight.parts[index]!;
  const codes = g.initializerOnce(`${name}.${index}.codes_uint4`, 'uint4', [weight.rows, weight.columns], () => part.packed);
  const scales = g.initializerOnce(`${name}.${index}.block_scales`, 'float32', [weight.rows, blocksPerRow], () => part.scales);
  const zeroPoints = g.initializerOnce(`${name}.${index}.zero_points_uint4`, 'uint4', [weight.rows, blocksPerRow], () =>
    contiguousNibbles(part.zeroPoints, weight.rows, blocksPerRow),
  );
  const dequantized = g.op('DequantizeLinear', [codes, scales, zeroPoints], {
    axis: attribute.int(1),
    block_size: attribute.int(weight.blockSize),
  });
  return g.op('FusedMatMul', [input, dequantized], { transB: attribute.int(1) }, { domain: 'com.microsoft' });
}

/** Row-padded nibbles ([rows, ⌈count/2⌉] bytes) → one contiguous nibble stream of rows · count values. */
export function contiguousNibbles(padded: Uint8Array, rows: number, count: number): Uint8Array {
  const rowBytes = Math.ceil(count / 2);
  if (count % 2 === 0) return padded.subarray(0, rows * rowBytes);
  const out = new Uint8Array(Math.ceil((rows * count) / 2));
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < count; column++) {
      const byte = padded[row * rowBytes + (column >> 1)]!;
      const nibble = column & 1 ? byte >> 4 : byte & 15;
      const target = row * count + column;
      out[target >> 1]! |= target & 1 ? nibble << 4 : nibble;
    }
  }
  return out;
}

/** Names of a weight's initializers, each added to the graph on first use (a tied lm_head shares them). */
export interface NBitsInitializers {
  packed(part: number): string;
  scales(part: number): string;
  zeroPoints(part: number): string;
  /** [rows, blocksPerRow] float32 residuals, or null. */
  correction(): string | null;
}

export function nbitsInitializers(g: GraphBuilder, weight: NBitsWeight, name: string): NBitsInitializers {
  const blocksPerRow = weight.columns / weight.blockSize;
  const part = (index: number): NBitsWeight['parts'][number] => weight.parts[index]!;
  return {
    packed: (index) =>
      g.initializerOnce(`${name}.${index}.packed`, 'uint8', [weight.rows, blocksPerRow, weight.blockSize / 2], () => part(index).packed),
    scales: (index) =>
      g.initializerOnce(`${name}.${index}.scales`, 'float32', [weight.rows * blocksPerRow], () => part(index).scales),
    zeroPoints: (index) =>
      g.initializerOnce(`${name}.${index}.zero_points`, 'uint8', [part(index).zeroPoints.length], () => part(index).zeroPoints),
    correction: () => {
      const correction = weight.correction;
      return correction === null
        ? null
        : g.initializerOnce(`${name}.correction`, 'float32', [weight.rows, blocksPerRow], () => correction);
    },
  };
}

/**
 * Embedding lookup on the quantized table itself (shared with a tied lm_head): Gather the rows' nibbles, rebuild
 * the original codes, then (code − zeroPoint) · scale (+ correction) in fp32 — for Q8_0 the GGUF value exactly.
 */
export function quantizedEmbedding(g: GraphBuilder, ids: string, weight: NBitsWeight, name: string): string {
  const initializers = nbitsInitializers(g, weight, name);
  const blocksPerRow = weight.columns / weight.blockSize;
  const gatherRows = (source: string): string => g.op('Gather', [source, ids], { axis: attribute.int(0) });
  const nibbles = (packed: string): string => {
    const bytes = g.op('Cast', [gatherRows(packed)], { to: attribute.int(1) }); // [1, S, blocks, blockSize/2]
    const high = g.op('Floor', [g.op('Div', [bytes, g.float32([16])])]);
    const low = g.op('Sub', [bytes, g.op('Mul', [high, g.float32([16])])]);
    const pairs = g.op('Concat', [g.op('Unsqueeze', [low, g.int64([-1])]), g.op('Unsqueeze', [high, g.int64([-1])])], {
      axis: attribute.int(-1),
    });
    return g.op('Reshape', [pairs, g.int64([0, 0, blocksPerRow, weight.blockSize])]);
  };
  let codes = nibbles(initializers.packed(0));
  if (weight.parts.length === 2) codes = g.op('Add', [g.op('Mul', [codes, g.float32([16])]), nibbles(initializers.packed(1))]);
  const perBlock = (source: string): string =>
    g.op('Unsqueeze', [gatherRows(g.op('Reshape', [source, g.int64([weight.rows, blocksPerRow])])), g.int64([-1])]);
  // The last part has the original scales (the high part of a split carries 16 · scale).
  const scales = perBlock(initializers.scales(weight.parts.length - 1));
  const zeroPoints = uniformOrTensor(g, weight.zeroPoints, `${name}.embedding_zero_points`, perBlock);
  let values = g.op('Mul', [g.op('Sub', [codes, zeroPoints]), scales]);
  const correction = initializers.correction();
  if (correction !== null) values = g.op('Add', [values, perBlock(correction)]);
  return g.op('Reshape', [values, g.int64([0, 0, weight.columns])]);
}

function uniformOrTensor(g: GraphBuilder, values: Uint8Array, name: string, perBlock: (source: string) => string): string {
  const first = values[0] ?? 0;
  if (values.every((value) => value === first)) return g.float32([first]);
  return perBlock(g.initializer(name, 'float32', [values.length], Float32Array.from(values)));
}

/** HF inverse frequencies in fp32: 1 / θ^(2i/d), divided by a linear scaling factor. */
export function inverseFrequencies(theta: number, headDim: number, scaleFactor: number): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(half);
  for (let index = 0; index < half; index++) {
    const exponent = Math.fround((2 * index) / headDim);
    const inverse = Math.fround(1 / Math.fround(Math.pow(theta, exponent)));
    out[index] = Math.fround(inverse / scaleFactor);
  }
  return out;
}

export interface RotaryTables {
  /** [1, S, 1, headDim], broadcast over heads. */
  readonly cos: string;
  /** sin with the first half negated: rotate_half(x)·sin = swapHalves(x)·signedSin. */
  readonly signedSin: string;
}

/** cos/sin of position · inverse frequency, duplicated over both halves (HF rotate_half layout). */
export function rotaryTables(g: GraphBuilder, positionIds: string, inverse: Float32Array, name: string): RotaryTables {
  const frequencies = g.initializer(`${name}.inv_freq`, 'float32', [inverse.length], inverse);
  const positions = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: attribute.int(1) }), g.int64([-1])]);
  const angles = g.op('Mul', [positions, frequencies]);
  const both = g.op('Unsqueeze', [g.op('Concat', [angles, angles], { axis: attribute.int(-1) }), g.int64([2])]);
  const sin = g.op('Sin', [angles]);
  const signedSin = g.op('Unsqueeze', [g.op('Concat', [g.op('Neg', [sin]), sin], { axis: attribute.int(-1) }), g.int64([2])]);
  return { cos: g.op('Cos', [both]), signedSin };
}

/**
 * HF apply_rotary_pos_emb: x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁]; x is [1, S, heads, headDim].
 * Written as x·cos + [x₂, x₁]·[−sin, sin] (negation is exact, so the products are the same fp32 values).
 */
export function applyRotary(g: GraphBuilder, input: string, tables: RotaryTables, headDim: number): string {
  const half = headDim / 2;
  const [first, second] = g.node('Split', [input, g.int64([half, half])], { axis: attribute.int(-1) }, { outputCount: 2 });
  const swapped = g.op('Concat', [second!, first!], { axis: attribute.int(-1) });
  return g.op('Add', [g.op('Mul', [input, tables.cos]), g.op('Mul', [swapped, tables.signedSin])]);
}
