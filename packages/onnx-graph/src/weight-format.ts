import { QaqError } from '@qaq/errors';
import { affineLayoutOrUndefined, dequantize, decodeAffineBlocks, tensorBytes, tensorTypeName } from '@qaq/gguf';
import type { GgufFile, GgufTensorInfo } from '@qaq/gguf';
import { affineToNBits, type NBitsWeight } from './nbits-weights.js';

/**
 * 'nbits': quantized GGUF matrices become com.microsoft MatMulNBits weights built from the GGUF blocks
 * (accuracy_level 0: fp32 compute). 'fp32': every matrix is dequantized and multiplied with a plain MatMul.
 */
export type WeightFormat = 'nbits' | 'fp32';

/**
 * com.microsoft MatMulNBits `accuracy_level`: the lowest precision onnxruntime may compute in. 0 and 1: fp32
 * activations (the default, exact up to accumulation order); 2: fp16; 3: bf16; 4: int8 activations quantized per
 * block, int32 accumulation (faster where MLAS has an int8 kernel: x86-64 AVX2/AVX-512 and ARM64 NEON; the
 * onnxruntime-web wasm build has no n-bit kernel at any level and dequantizes every weight on every run).
 */
export type MatMulNBitsAccuracyLevel = 0 | 1 | 2 | 3 | 4;

/**
 * How a 4-bit weight is multiplied. 'matmul-nbits' (default): com.microsoft MatMulNBits. 'dequantize-linear': the
 * same bytes as ONNX uint4 codes [N, K] with blockwise scales/zero points, `DequantizeLinear` then `FusedMatMul`
 * (transB). With the session config `session.disable_quant_qdq = 1` onnxruntime folds the DequantizeLinear into an
 * fp32 initializer when the session is created: fp32 speed (and fp32 memory) from a 4-bit model — for onnxruntime-web's
 * wasm EP, whose MatMulNBits dequantizes the whole weight on every run. Without that option onnxruntime's CPU EP fuses
 * the pair back into MatMulNBits.
 */
export type NBitsOperator = 'matmul-nbits' | 'dequantize-linear';

/** What `linear()` emits for quantized weights. */
export interface LinearSettings {
  readonly accuracyLevel: MatMulNBitsAccuracyLevel;
  readonly nbitsOperator: NBitsOperator;
}

export const DEFAULT_LINEAR_SETTINGS: LinearSettings = { accuracyLevel: 0, nbitsOperator: 'matmul-nbits' };

/** Validates the options of untyped callers and fills the defaults. */
export function linearSettings(options: { matMulNBitsAccuracyLevel?: unknown; nbitsOperator?: unknown }): LinearSettings {
  const nbitsOperator = options.nbitsOperator ?? 'matmul-nbits';
  if (nbitsOperator !== 'matmul-nbits' && nbitsOperator !== 'dequantize-linear') {
    throw new QaqError('invalid-nbits-operator', "nbitsOperator must be 'matmul-nbits' or 'dequantize-linear'", {
      details: { nbitsOperator },
    });
  }
  return { accuracyLevel: checkMatMulNBitsAccuracyLevel(options.matMulNBitsAccuracyLevel ?? 0), nbitsOperator };
}

export const MATMUL_NBITS_ACCURACY_LEVELS: readonly MatMulNBitsAccuracyLevel[] = [0, 1, 2, 3, 4];

/** Validates an accuracy level coming from untyped callers (CLI, URL parameters). */
export function checkMatMulNBitsAccuracyLevel(level: unknown): MatMulNBitsAccuracyLevel {
  if (!MATMUL_NBITS_ACCURACY_LEVELS.includes(level as MatMulNBitsAccuracyLevel)) {
    throw new QaqError('invalid-accuracy-level', 'MatMulNBits accuracy level must be 0, 1, 2, 3 or 4', {
      details: { level },
    });
  }
  return level as MatMulNBitsAccuracyLevel;
}

/** A dense weight stored transposed, [columns = K, rows = N], for `MatMul(x, W)`. */
export interface DenseWeight {
  readonly rows: number;
  readonly columns: number;
  readonly transposed: Float32Array;
}

export type LinearWeight = ({ readonly kind: 'nbits' } & NBitsWeight) | ({ readonly kind: 'dense' } & DenseWeight);

function matrixShape(tensor: GgufTensorInfo): { rows: number; columns: number } {
  const [columns, rows, ...rest] = tensor.dimensions;
  if (columns === undefined || rows === undefined || rest.some((dimension) => dimension !== 1)) {
    throw new QaqError('invalid-gguf-tensor', `tensor ${tensor.name} is not a matrix`, {
      details: { name: tensor.name, dimensions: tensor.dimensions },
    });
  }
  return { rows, columns };
}

/** Dequantizes any supported tensor to fp32, in GGUF element order. */
export function tensorToFloat32(file: GgufFile, bytes: Uint8Array, tensor: GgufTensorInfo): Float32Array {
  const out = new Float32Array(tensor.elementCount);
  dequantize(tensor.type, tensorBytes(file, bytes, tensor), tensor.elementCount, out);
  return out;
}

/** Loads a [N, K] matrix as a linear-layer weight; `rowOrder[newRow] = sourceRow` permutes output rows. */
export function loadLinearWeight(
  file: GgufFile,
  bytes: Uint8Array,
  tensor: GgufTensorInfo,
  format: WeightFormat,
  rowOrder?: Int32Array,
): LinearWeight {
  const { rows, columns } = matrixShape(tensor);
  const layout = affineLayoutOrUndefined(tensor.type);
  if (format === 'nbits' && layout !== undefined) {
    const blocks = decodeAffineBlocks(tensor.type, tensorBytes(file, bytes, tensor), tensor.elementCount);
    return { kind: 'nbits', ...affineToNBits(blocks, rows, columns, rowOrder) };
  }
  let values: Float32Array;
  try {
    values = tensorToFloat32(file, bytes, tensor);
  } catch (error) {
    throw new QaqError('unsupported-tensor-type', `tensor ${tensor.name} has an unsupported type`, {
      details: { name: tensor.name, type: tensor.type, typeName: tensorTypeName(tensor.type) },
      cause: error,
    });
  }
  const transposed = new Float32Array(rows * columns);
  for (let row = 0; row < rows; row++) {
    const source = (rowOrder?.[row] ?? row) * columns;
    for (let column = 0; column < columns; column++) transposed[column * rows + row] = values[source + column]!;
  }
  return { kind: 'dense', rows, columns, transposed };
}

function concatenate<T extends Uint8Array | Float32Array>(arrays: readonly T[], make: (length: number) => T): T {
  const out = make(arrays.reduce((sum, array) => sum + array.length, 0));
  let offset = 0;
  for (const array of arrays) {
    out.set(array, offset);
    offset += array.length;
  }
  return out;
}

/**
 * Stacks weights that share an input (Q/K/V, gate/up) into one [ΣN, K] weight so one MatMulNBits (or MatMul)
 * replaces several; undefined when their layouts differ (then they stay separate).
 */
export function stackRows(weights: readonly LinearWeight[]): LinearWeight | undefined {
  const [first] = weights;
  if (first === undefined || weights.some((weight) => weight.columns !== first.columns || weight.kind !== first.kind)) {
    return undefined;
  }
  const rows = weights.reduce((sum, weight) => sum + weight.rows, 0);
  if (first.kind === 'dense') {
    const dense = weights as readonly (LinearWeight & { kind: 'dense' })[];
    const transposed = new Float32Array(rows * first.columns);
    for (let column = 0; column < first.columns; column++) {
      let offset = column * rows;
      for (const weight of dense) {
        transposed.set(weight.transposed.subarray(column * weight.rows, (column + 1) * weight.rows), offset);
        offset += weight.rows;
      }
    }
    return { kind: 'dense', rows, columns: first.columns, transposed };
  }
  const quantized = weights as readonly (LinearWeight & { kind: 'nbits' })[];
  if (quantized.some((weight) => weight.blockSize !== first.blockSize || weight.parts.length !== first.parts.length)) {
    return undefined;
  }
  const anyCorrection = quantized.some((weight) => weight.correction !== null);
  const blocksPerRow = first.columns / first.blockSize;
  return {
    kind: 'nbits',
    rows,
    columns: first.columns,
    blockSize: first.blockSize,
    codeBits: Math.max(...quantized.map((weight) => weight.codeBits)),
    parts: first.parts.map((_, index) => ({
      packed: concatenate(quantized.map((weight) => weight.parts[index]!.packed), (length) => new Uint8Array(length)),
      scales: concatenate(quantized.map((weight) => weight.parts[index]!.scales), (length) => new Float32Array(length)),
      zeroPoints: concatenate(quantized.map((weight) => weight.parts[index]!.zeroPoints), (length) => new Uint8Array(length)),
    })),
    correction: anyCorrection
      ? concatenate(
          quantized.map((weight) => weight.correction ?? new Float32Array(weight.rows * blocksPerRow)),
          (length) => new Float32Array(length),
        )
      : null,
    zeroPoints: concatenate(quantized.map((weight) => weight.zeroPoints), (length) => new Uint8Array(length)),
    scales: concatenate(quantized.map((weight) => weight.scales), (length) => new Float32Array(length)),
  };
}
