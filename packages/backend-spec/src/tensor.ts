import type { TensorData, TensorDataType } from './data-type.js';

/**
 * Where a tensor's memory lives (onnxruntime's names). A closed union, so that `tensor.location === 'cpu'` narrows
 * a BackendTensor to a CpuTensor; a new location is a new specification version.
 */
export type TensorLocation = 'cpu' | 'cpu-pinned' | 'gpu-buffer' | 'ml-tensor' | 'texture';

/** What every tensor has, wherever it lives. */
interface TensorBase<T extends TensorDataType> {
  readonly dataType: T;
  /** Concrete dimensions (never symbolic). */
  readonly dimensions: readonly number[];
  /** Element count: the product of `dimensions` (1 for a scalar). */
  readonly size: number;
  readonly disposed: boolean;
  /**
   * The elements on the CPU: the same view as `data` for CPU tensors, a download for device tensors.
   * Throws QaqError('tensor-disposed') after `dispose()`.
   */
  read(): Promise<TensorData<T>>;
  /**
   * Releases the backend's memory. For CPU tensors that wrap a caller's buffer the buffer stays the caller's;
   * idempotent.
   */
  dispose(): void;
}

/**
 * A tensor whose elements are a typed-array view on the CPU. When it was created from a caller's array, `data` is
 * that very array (no copy), so writing into it changes what the next run reads.
 */
export interface CpuTensor<T extends TensorDataType = TensorDataType> extends TensorBase<T> {
  readonly location: 'cpu' | 'cpu-pinned';
  readonly data: TensorData<T>;
}

/** A tensor in device memory (e.g. a WebGPU buffer); read its elements with `read()`. */
export interface DeviceTensor<T extends TensorDataType = TensorDataType> extends TensorBase<T> {
  readonly location: Exclude<TensorLocation, 'cpu' | 'cpu-pinned'>;
}

/** Any backend tensor; narrow on `location` to reach `data`. */
export type BackendTensor<T extends TensorDataType = TensorDataType> = CpuTensor<T> | DeviceTensor<T>;
