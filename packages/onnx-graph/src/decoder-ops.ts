import { attribute } from './onnx/onnx-types.js';
import type { GraphBuilder } from './onnx/graph-builder.js';
import type { LinearWeight } from './weight-format.js';
import type { NBitsWeight } from './nbits-weights.js';

/** The largest finite fp32, negated: the masked-score value (HF eager uses torch.finfo(float32).min too). */
export const MASKED_SCORE = -3.4028234663852886e38;

/** HF RMSNorm in fp32: x · 1/√(mean(x²) + ε) · w (GGUF stores Gemma's weight already as 1 + w). */
export function rmsNorm(g: GraphBuilder, input: string, weight: string, epsilon: number): string {
  const square = g.op('Mul', [input, input]);
  const mean = g.op('ReduceMean', [square, g.int64([-1])], { keepdims: attribute.int(1) });
  const root = g.op('Sqrt', [g.op('Add', [mean, g.float32([epsilon])])]);
  const normalized = g.op('Mul', [input, g.op('Reciprocal', [root])]);
  return g.op('Mul', [normalized, weight]);
}

/** Adds the initializers of a linear weight under `name` and returns x·Wᵀ. */
export function linear(g: GraphBuilder, input: string, weight: LinearWeight, name: string): string {
  if (weight.kind === 'dense') {
    const matrix = g.initializer(`${name}.weight`, 'float32', [weight.columns, weight.rows], weight.transposed);
    return g.op('MatMul', [input, matrix]);
  }
  const initializers = nbitsInitializers(g, weight, name);
  return g.op(
    'MatMulNBits',
    [input, initializers.packed, initializers.scales, initializers.zeroPoints],
    {
      K: attribute.int(weight.columns),
      N: attribute.int(weight.rows),
      bits: attribute.int(weight.bits),
      block_size: attribute.int(weight.blockSize),
      accuracy_level: attribute.int(0),
    },
    { domain: 'com.microsoft' },
  );
}

export interface NBitsInitializers {
  readonly packed: string;
  readonly scales: string;
  readonly zeroPoints: string;
}

const initializerCache = new WeakMap<NBitsWeight, NBitsInitializers>();

/** The MatMulNBits initializers of a weight, added once even when the weight is shared (tied embeddings). */
export function nbitsInitializers(g: GraphBuilder, weight: NBitsWeight, name: string): NBitsInitializers {
  const cached = initializerCache.get(weight);
  if (cached !== undefined) return cached;
  const blocksPerRow = weight.columns / weight.blockSize;
  const blobSize = (weight.blockSize * weight.bits) / 8;
  const zeroPointsLength =
    weight.zeroPoints.kind === 'float' ? weight.rows * blocksPerRow : weight.zeroPoints.data.length;
  const result = {
    packed: g.initializer(`${name}.packed`, 'uint8', [weight.rows, blocksPerRow, blobSize], weight.packed),
    scales: g.initializer(`${name}.scales`, 'float32', [weight.rows * blocksPerRow], weight.scales),
    zeroPoints: g.initializer(
      `${name}.zero_points`,
      weight.zeroPoints.kind === 'float' ? 'float32' : 'uint8',
      [zeroPointsLength],
      weight.zeroPoints.data,
    ),
  };
  initializerCache.set(weight, result);
  return result;
}

/**
 * Embedding lookup on the quantized table itself: Gather the rows' codes, scales and zero points, then
 * (code − zeroPoint) · scale in fp32 — the exact MatMulNBits arithmetic, so a tied lm_head shares the bytes.
 */
export function quantizedEmbedding(g: GraphBuilder, ids: string, weight: NBitsWeight, name: string): string {
  const initializers = nbitsInitializers(g, weight, name);
  const blocksPerRow = weight.columns / weight.blockSize;
  const rowsCodes = g.op('Gather', [initializers.packed, ids], { axis: attribute.int(0) });
  let codes = g.op('Cast', [rowsCodes], { to: attribute.int(1) });
  if (weight.bits === 4) {
    const high = g.op('Floor', [g.op('Div', [codes, g.float32([16])])]);
    const low = g.op('Sub', [codes, g.op('Mul', [high, g.float32([16])])]);
    const pairs = g.op('Concat', [g.op('Unsqueeze', [low, g.int64([-1])]), g.op('Unsqueeze', [high, g.int64([-1])])], {
      axis: attribute.int(-1),
    });
    codes = pairs;
  }
  // [1, S, blocks, blockSize]
  codes = g.op('Reshape', [codes, g.int64([0, 0, blocksPerRow, weight.blockSize])]);
  const perBlock = (source: string): string =>
    g.op('Unsqueeze', [
      g.op('Gather', [g.op('Reshape', [source, g.int64([weight.rows, blocksPerRow])]), ids], { axis: attribute.int(0) }),
      g.int64([-1]),
    ]);
  const scales = perBlock(initializers.scales);
  const zeroPoints = embeddingZeroPoints(g, weight, initializers, perBlock);
  const values = g.op('Mul', [g.op('Sub', [codes, zeroPoints]), scales]);
  return g.op('Reshape', [values, g.int64([0, 0, weight.columns])]);
}

function embeddingZeroPoints(
  g: GraphBuilder,
  weight: NBitsWeight,
  initializers: NBitsInitializers,
  perBlock: (source: string) => string,
): string {
  if (weight.zeroPoints.kind === 'float') return perBlock(initializers.zeroPoints);
  const blocksPerRow = weight.columns / weight.blockSize;
  const all = new Float32Array(weight.rows * blocksPerRow);
  for (let index = 0; index < all.length; index++) {
    const data = weight.zeroPoints.data;
    all[index] =
      weight.bits === 8
        ? data[index]!
        : (data[Math.floor(index / blocksPerRow) * Math.ceil(blocksPerRow / 2) + ((index % blocksPerRow) >>> 1)]! >>>
            ((index % blocksPerRow) % 2 === 0 ? 0 : 4)) &
          15;
  }
  const first = all[0] ?? 0;
  if (all.every((value) => value === first)) return g.float32([first]);
  const name = `${initializers.zeroPoints}.float`;
  return perBlock(g.initializer(name, 'float32', [all.length], all));
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
  readonly sin: string;
}

/** cos/sin of position · inverse frequency, duplicated over both halves (HF rotate_half layout). */
export function rotaryTables(g: GraphBuilder, positionIds: string, inverse: Float32Array, name: string): RotaryTables {
  const frequencies = g.initializer(`${name}.inv_freq`, 'float32', [inverse.length], inverse);
  const positions = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: attribute.int(1) }), g.int64([-1])]);
  const angles = g.op('Mul', [positions, frequencies]);
  const both = g.op('Unsqueeze', [g.op('Concat', [angles, angles], { axis: attribute.int(-1) }), g.int64([2])]);
  return { cos: g.op('Cos', [both]), sin: g.op('Sin', [both]) };
}

/** x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁]; x is [1, S, heads, headDim]. */
export function applyRotary(g: GraphBuilder, input: string, tables: RotaryTables, headDim: number): string {
  const half = headDim / 2;
  const first = g.op('Slice', [input, g.int64([0]), g.int64([half]), g.int64([-1])]);
  const second = g.op('Slice', [input, g.int64([half]), g.int64([headDim]), g.int64([-1])]);
  const rotated = g.op('Concat', [g.op('Neg', [second]), first], { axis: attribute.int(-1) });
  return g.op('Add', [g.op('Mul', [input, tables.cos]), g.op('Mul', [rotated, tables.sin])]);
}
