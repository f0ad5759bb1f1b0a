/**
 * Element types a backend tensor can hold, spelled as onnxruntime spells them. `float16` is carried as raw
 * IEEE half bits in a Uint16Array (Float16Array is not in every runtime we target); `bool` as one byte each.
 */
export type TensorDataType =
  | 'float32'
  | 'float16'
  | 'float64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool';

/** The typed array that holds each element type on the CPU. */
export interface TensorDataTypeArrayMap {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
}

/** The typed array for element type `T`. */
export type TensorData<T extends TensorDataType = TensorDataType> = TensorDataTypeArrayMap[T];
