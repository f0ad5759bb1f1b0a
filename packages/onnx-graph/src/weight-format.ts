import { QaqError } from '@qaq/errors';
import { affineLayoutOrUndefined, dequantize, decodeAffineBlocks, tensorBytes, tensorTypeName } from '@qaq/gguf';
import type { GgufFile, GgufTensorInfo } from '@qaq/gguf';
import { affineToNBits, type NBitsWeight } from './nbits-weights.js';

/**
 * 'nbits': quantized GGUF matrices become com.microsoft MatMulNBits weights built from the GGUF blocks
 * (accuracy_level 0: fp32 compute). 'fp32': every matrix is dequantized and multiplied with a plain MatMul.
 */
export type WeightFormat = 'nbits' | 'fp32';

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
