import type { DeviceTensor, TensorData, TensorDataType } from '@qaq/backend-spec';
import { HostTensor, tensorDisposedError } from '@qaq/backend-common';
import { QaqError } from '@qaq/errors';
import ort from 'onnxruntime-node';

const disposedError = tensorDisposedError;

/**
 * A CPU tensor over a caller's typed array. The onnxruntime Tensor is made once, here, and reused every run:
 * onnxruntime-node wraps the array's memory as the OrtValue of a feed (no copy), and writes a preallocated
 * output into it.
 */
export class NodeCpuTensor<T extends TensorDataType = TensorDataType> extends HostTensor<T> {
  readonly #ortTensor: ort.Tensor;

  constructor(dataType: T, data: TensorData<T>, dimensions: readonly number[]) {
    super(dataType, data, dimensions);
    // onnxruntime-common types `new Tensor(type, data, dims)` per element type; the union is checked by callers.
    this.#ortTensor = new ort.Tensor(dataType, data as Float32Array, this.dimensions);
  }

  /** The onnxruntime tensor to feed or fetch into; throws once disposed so stale tensors never reach a run. */
  get ortTensor(): ort.Tensor {
    this.assertNotDisposed();
    return this.#ortTensor;
  }
}

/**
 * An output left in GPU memory by the WebGPU provider. It can be fed to the next run. onnxruntime-node 1.30 cannot
 * download it ("not implemented" in its binding), so `read()` says so instead of returning wrong data.
 */
export class NodeGpuTensor<T extends TensorDataType = TensorDataType> implements DeviceTensor<T> {
  readonly location = 'gpu-buffer' as const;
  readonly dimensions: readonly number[];
  readonly size: number;
  readonly #ortTensor: ort.Tensor;
  #disposed = false;

  constructor(
    readonly dataType: T,
    ortTensor: ort.Tensor,
  ) {
    this.dimensions = Object.freeze([...ortTensor.dims]);
    this.size = ortTensor.size;
    this.#ortTensor = ortTensor;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  get ortTensor(): ort.Tensor {
    if (this.#disposed) throw disposedError();
    return this.#ortTensor;
  }

  async read(): Promise<TensorData<T>> {
    if (this.#disposed) throw disposedError();
    throw new QaqError(
      'tensor-not-on-cpu',
      'onnxruntime-node 1.30 cannot download gpu-buffer tensors; ask for a cpu output location to read it',
      { details: { location: this.location } },
    );
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#ortTensor.dispose();
  }
}
