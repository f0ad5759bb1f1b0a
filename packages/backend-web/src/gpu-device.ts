import type { GpuAdapterLike, GpuDeviceLike } from './webgpu-types.js';

/**
 * The backend's own WebGPU device, given to every WebGPU session (onnxruntime-web's `device` provider option) and
 * used for every GPU tensor it allocates. Left to itself, onnxruntime-web gives sessions a default device that is
 * not stable across sessions (after sessions are released a new one appears; `ort.env.webgpu.device` then names a
 * device later sessions do not use — seen in Chromium as "[Buffer] is associated with [Device], and cannot be used
 * with [Device]"). One device per backend keeps buffers and sessions together.
 *
 * The device asks for every feature and the adapter's full limits, as onnxruntime-web does for its own device, so
 * kernels see the same capabilities (shader-f16 where present, large storage buffers).
 */
export async function requestBackendDevice(adapter: GpuAdapterLike): Promise<GpuDeviceLike> {
  const requiredFeatures: string[] = [];
  adapter.features.forEach((feature) => requiredFeatures.push(feature));
  const requiredLimits: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, unknown>;
  // WebIDL attributes live on the prototype as enumerable getters: for...in walks them.
  for (const name in limits) {
    const value = limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  return adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'qaq-backend-web' });
}
