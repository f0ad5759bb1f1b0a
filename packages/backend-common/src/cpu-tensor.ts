import type { CpuTensor, TensorData, TensorDataType } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { elementCount, isTensorDataType, matchesDataType } from './data-types.js';

/** The error every backend throws when a disposed tensor is used. */
export function tensorDisposedError(): QaqError {
  return new QaqError('tensor-disposed', 'The tensor was disposed', { details: {} });
}

/** Checks a caller's element type, data and dimensions before a CPU tensor is made over them. */
export function validateTensorData<T extends TensorDataType>(dataType: T, data: TensorData<T>, dimensions: readonly number[]): void {
  if (!isTensorDataType(dataType)) {
    throw new QaqError('invalid-tensor', `Unsupported element type '${String(dataType)}'`, { details: { dataType } });
  }
  const count = Array.isArray(dimensions) ? elementCount(dimensions) : undefined;
  if (!matchesDataType(dataType, data) || count === undefined || count !== data.length) {
    throw new QaqError('invalid-tensor', `The data does not hold ${dataType}[${String(dimensions)}]`, {
      details: { dataType, dimensions, length: ArrayBuffer.isView(data) ? data.length : undefined, elementCount: count },
    });
  }
}

/**
 * A CPU tensor over a caller's typed array, kept as is (no copy). Backends extend it with their runtime's tensor
 * over the same memory.
 */
export class HostTensor<T extends TensorDataType = TensorDataType> implements CpuTensor<T> {
  readonly location = 'cpu' as const;
  readonly dimensions: readonly number[];
  readonly size: number;
  #disposed = false;

  constructor(
    readonly dataType: T,
    readonly data: TensorData<T>,
    dimensions: readonly number[],
  ) {
    this.dimensions = Object.freeze([...dimensions]);
    this.size = data.length;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Throws once disposed, so stale tensors never reach a run. */
  protected assertNotDisposed(): void {
    if (this.#disposed) throw tensorDisposedError();
  }

  async read(): Promise<TensorData<T>> {
    this.assertNotDisposed();
    return this.data;
  }

  dispose(): void {
    this.#disposed = true;
  }
}
