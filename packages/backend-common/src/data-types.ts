import type { TensorData, TensorDataType } from '@qaq/backend-spec';

/** The typed-array constructor that holds each element type (float16 as raw bits, bool as bytes). */
export const typedArrayConstructors = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
} as const satisfies Record<TensorDataType, unknown>;

export const supportedDataTypes = Object.keys(typedArrayConstructors) as TensorDataType[];

/** ONNX TensorProto.DataType numbers. */
export const onnxDataTypes: Readonly<Record<number, TensorDataType>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};

export function isTensorDataType(value: unknown): value is TensorDataType {
  return typeof value === 'string' && Object.hasOwn(typedArrayConstructors, value);
}

export function matchesDataType<T extends TensorDataType>(dataType: T, data: unknown): data is TensorData<T> {
  const expected = typedArrayConstructors[dataType];
  return data instanceof expected && Object.getPrototypeOf(data) === expected.prototype;
}

export function allocate<T extends TensorDataType>(dataType: T, length: number): TensorData<T> {
  return new typedArrayConstructors[dataType](length) as TensorData<T>;
}

/** Product of the dimensions; undefined when one is not a non-negative integer. */
export function elementCount(dimensions: readonly number[]): number | undefined {
  let count = 1;
  for (const dimension of dimensions) {
    if (!Number.isSafeInteger(dimension) || dimension < 0) return undefined;
    count *= dimension;
  }
  return count;
}
