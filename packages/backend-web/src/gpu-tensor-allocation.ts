import type { TensorData, TensorDataType } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { elementCount } from '@qaq/backend-common';
import { ort } from './ort-web.js';
import { downloadGpuBuffer } from './gpu-download.js';
import { gpuBufferUsage, type GpuBufferLike, type GpuDeviceLike } from './webgpu-types.js';
import { WebGpuTensor } from './web-tensor.js';

/** Element types onnxruntime-web 1.30 accepts in a gpu-buffer tensor. */
export const gpuBufferDataTypes = ['float32', 'float16', 'int32', 'int64', 'uint32', 'uint8', 'bool'] as const satisfies readonly TensorDataType[];
export type GpuBufferDataType = (typeof gpuBufferDataTypes)[number];

const bytesPerElement: Record<GpuBufferDataType, number> = { float32: 4, float16: 2, int32: 4, int64: 8, uint32: 4, uint8: 1, bool: 1 };

/**
 * A tensor in a new GPU buffer on `device` (the backend's, which its WebGPU sessions run on), allocated once: feed
 * it, or pass it as a preallocated output so each run's result is written into it on the GPU (how a KV cache stays
 * on the device between steps). `initialData` is uploaded with one queue write; without it the buffer is zeros
 * (WebGPU zero-initializes). `dispose()` destroys the buffer.
 */
export async function allocateGpuTensor<T extends GpuBufferDataType>(
  device: GpuDeviceLike,
  dataType: T,
  dimensions: readonly number[],
  initialData?: TensorData<T>,
): Promise<WebGpuTensor<T>> {
  if (!(gpuBufferDataTypes as readonly string[]).includes(dataType)) {
    throw new QaqError('invalid-tensor', `onnxruntime-web cannot hold ${String(dataType)} in a gpu-buffer tensor`, {
      details: { dataType, dimensions, supported: gpuBufferDataTypes },
    });
  }
  const count = Array.isArray(dimensions) ? elementCount(dimensions) : undefined;
  if (count === undefined || (initialData !== undefined && initialData.length !== count)) {
    throw new QaqError('invalid-tensor', `The data does not hold ${dataType}[${String(dimensions)}]`, {
      details: { dataType, dimensions, length: initialData?.length, elementCount: count },
    });
  }
  // Buffer sizes and queue writes must be multiples of 4 bytes.
  const byteLength = Math.max(4, Math.ceil((count * bytesPerElement[dataType]) / 4) * 4);
  const buffer: GpuBufferLike = device.createBuffer({
    size: byteLength,
    usage: gpuBufferUsage.storage | gpuBufferUsage.copySource | gpuBufferUsage.copyDestination,
  });
  if (initialData !== undefined && initialData.byteLength > 0) {
    const bytes = new Uint8Array(initialData.buffer, initialData.byteOffset, initialData.byteLength);
    const padded = bytes.byteLength % 4 === 0 ? bytes : (() => {
      const copy = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      copy.set(bytes);
      return copy;
    })();
    device.queue.writeBuffer(buffer, 0, padded);
  }
  const ortTensor = ort.Tensor.fromGpuBuffer(buffer as never, {
    dataType,
    dims: [...dimensions],
    download: async () => (await downloadGpuBuffer(device, buffer, dataType, count)) as never,
    dispose: () => buffer.destroy(),
  });
  return new WebGpuTensor(dataType, ortTensor, device);
}
