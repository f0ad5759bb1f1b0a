import type { CpuTensor, TensorData, TensorDataType } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';

/** A CPU tensor over a typed array, which it keeps as is (no copy). */
export class MockTensor<T extends TensorDataType = TensorDataType> implements CpuTensor<T> {
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

  async read(): Promise<TensorData<T>> {
    if (this.#disposed) throw new QaqError('tensor-disposed', 'The tensor was disposed', { details: {} });
    return this.data;
  }

  dispose(): void {
    this.#disposed = true;
  }
}
