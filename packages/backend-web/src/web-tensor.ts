import type { DeviceTensor, TensorData, TensorDataType } from '@qaq/backend-spec';
import { HostTensor, tensorDisposedError } from '@qaq/backend-common';
import { downloadGpuBuffer } from './gpu-download.js';
import { ort, type OrtTensor } from './ort-web.js';
import type { GpuBufferLike, GpuDeviceLike } from './webgpu-types.js';

const disposedError = tensorDisposedError;

/**
 * onnxruntime-web hands float16 out as a Float16Array where the runtime has one (Chromium does, Node 20 does not);
 * the specification carries float16 as raw bits in a Uint16Array. Same memory, another view: no copy.
 */
export function asSpecData<T extends TensorDataType>(dataType: T, data: unknown): TensorData<T> {
  if (dataType === 'float16' && !(data instanceof Uint16Array) && ArrayBuffer.isView(data)) {
    return new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) as TensorData<T>;
  }
  if (dataType === 'bool' && !(data instanceof Uint8Array) && ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength) as TensorData<T>;
  }
  return data as TensorData<T>;
}

/**
 * A CPU tensor over a caller's typed array. The onnxruntime-web Tensor is made once and reused every run; it views
 * the caller's memory, so writing the array changes what the next run reads. (onnxruntime-web copies CPU feeds
 * into the WebAssembly heap, or uploads them to the GPU, on each run.)
 */
export class WebCpuTensor<T extends TensorDataType = TensorDataType> extends HostTensor<T> {
  readonly #ortTensor: OrtTensor;

  constructor(dataType: T, data: TensorData<T>, dimensions: readonly number[]) {
    super(dataType, data, dimensions);
    // onnxruntime-common types `new Tensor(type, data, dims)` per element type; the union is checked by callers.
    this.#ortTensor = new ort.Tensor(dataType, data as Float32Array, this.dimensions);
  }

  /** The onnxruntime-web tensor to feed; throws once disposed so stale tensors never reach a run. */
  get ortTensor(): OrtTensor {
    this.assertNotDisposed();
    return this.#ortTensor;
  }
}

/**
 * A tensor in a WebGPU buffer on the backend's device: an output left on the GPU (`preferredOutputLocation:
 * 'gpu-buffer'`) or storage from `WebBackend.createGpuTensor` (allocated once, written in place as a preallocated
 * output, fed to the next run without leaving the GPU). `read()` downloads a copy and leaves the tensor on the GPU;
 * `dispose()` frees the buffer.
 *
 * `read()` deliberately bypasses onnxruntime's `Tensor.getData()`: that turns the onnxruntime tensor into a CPU
 * tensor holding the downloaded copy, so a later run would bind stale CPU data instead of the GPU buffer (seen:
 * storage read once, then written by later runs, kept returning and feeding its first values).
 */
export class WebGpuTensor<T extends TensorDataType = TensorDataType> implements DeviceTensor<T> {
  readonly location = 'gpu-buffer' as const;
  readonly dimensions: readonly number[];
  readonly size: number;
  readonly #ortTensor: OrtTensor;
  readonly #buffer: GpuBufferLike;
  readonly #device: GpuDeviceLike | undefined;
  #disposed = false;

  constructor(
    readonly dataType: T,
    ortTensor: OrtTensor,
    /** The device the buffer belongs to; without it `read()` falls back to onnxruntime's download. */
    device?: GpuDeviceLike,
  ) {
    this.dimensions = Object.freeze([...ortTensor.dims]);
    this.size = ortTensor.size;
    this.#ortTensor = ortTensor;
    this.#buffer = ortTensor.gpuBuffer as unknown as GpuBufferLike;
    this.#device = device;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  get ortTensor(): OrtTensor {
    if (this.#disposed) throw disposedError();
    return this.#ortTensor;
  }

  /** The WebGPU buffer (a `GPUBuffer`), e.g. to bind in a kernel of your own on `WebBackend.gpuDevice`. */
  get gpuBuffer(): GpuBufferLike {
    if (this.#disposed) throw disposedError();
    return this.#buffer;
  }

  /** Downloads the elements (a GPU→CPU copy each call); the tensor stays on the GPU. */
  async read(): Promise<TensorData<T>> {
    if (this.#disposed) throw disposedError();
    if (this.#device !== undefined) return downloadGpuBuffer(this.#device, this.#buffer, this.dataType, this.size);
    return asSpecData(this.dataType, await this.#ortTensor.getData());
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#ortTensor.dispose();
  }
}
