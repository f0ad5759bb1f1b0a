import type { TensorData, TensorDataType } from '@qaq/backend-spec';
import { gpuBufferUsage, gpuMapModeRead, type GpuBufferLike, type GpuDeviceLike } from './webgpu-types.js';

const bytesPerElement: Partial<Record<TensorDataType, number>> = { float32: 4, float16: 2, int32: 4, int64: 8, uint32: 4, uint8: 1, bool: 1, int8: 1 };

/** Bytes of `count` elements of `dataType` in a GPU buffer, or undefined for types gpu-buffer tensors cannot hold. */
export function gpuByteLength(dataType: TensorDataType, count: number): number | undefined {
  const size = bytesPerElement[dataType];
  return size === undefined ? undefined : size * count;
}

/**
 * Reads `count` elements out of a GPU buffer: a copy into a mappable staging buffer on the same queue (so after
 * every run submitted before), mapped and copied out. One GPU→CPU transfer; the source stays on the GPU, unchanged.
 */
export async function downloadGpuBuffer<T extends TensorDataType>(device: GpuDeviceLike, source: GpuBufferLike, dataType: T, count: number): Promise<TensorData<T>> {
  const byteLength = gpuByteLength(dataType, count) ?? 0;
  const stagingSize = Math.max(4, Math.ceil(byteLength / 4) * 4);
  const staging = device.createBuffer({ size: stagingSize, usage: gpuBufferUsage.mapRead | gpuBufferUsage.copyDestination });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, 0, staging, 0, Math.min(stagingSize, source.size - (source.size % 4)));
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(gpuMapModeRead);
    const copy = staging.getMappedRange().slice(0, byteLength);
    staging.unmap();
    return typedArrayOf(dataType, copy, count);
  } finally {
    staging.destroy();
  }
}

function typedArrayOf<T extends TensorDataType>(dataType: T, buffer: ArrayBuffer, count: number): TensorData<T> {
  const views: Partial<Record<TensorDataType, () => ArrayBufferView>> = {
    float32: () => new Float32Array(buffer, 0, count),
    float16: () => new Uint16Array(buffer, 0, count),
    int32: () => new Int32Array(buffer, 0, count),
    int64: () => new BigInt64Array(buffer, 0, count),
    uint32: () => new Uint32Array(buffer, 0, count),
    uint8: () => new Uint8Array(buffer, 0, count),
    bool: () => new Uint8Array(buffer, 0, count),
    int8: () => new Int8Array(buffer, 0, count),
  };
  const view = views[dataType];
  if (view === undefined) throw new TypeError(`no gpu-buffer layout for ${dataType}`);
  return view() as TensorData<T>;
}
