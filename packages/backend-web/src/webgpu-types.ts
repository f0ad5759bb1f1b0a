// The few WebGPU types this package touches. TypeScript 5.9's DOM library has no WebGPU declarations and the
// package avoids a dependency on @webgpu/types; these are structural subsets of the W3C interfaces.

/** GPUAdapterInfo (what the browser says about the adapter). */
export interface GpuAdapterInfoLike {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** Chromium 1xx: true for software adapters such as SwiftShader. */
  readonly isFallbackAdapter?: boolean;
}

export interface GpuSupportedLimitsLike {
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
}

export interface GpuAdapterLike {
  readonly info?: GpuAdapterInfoLike;
  readonly features: { has(feature: string): boolean; readonly size: number; forEach(callback: (feature: string) => void): void };
  readonly limits: GpuSupportedLimitsLike;
  requestDevice(descriptor?: { requiredFeatures?: string[]; requiredLimits?: Record<string, number>; label?: string }): Promise<GpuDeviceLike>;
}

export interface GpuBufferLike {
  readonly size: number;
  readonly usage: number;
  destroy(): void;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

export interface GpuCommandEncoderLike {
  copyBufferToBuffer(source: GpuBufferLike, sourceOffset: number, destination: GpuBufferLike, destinationOffset: number, size: number): void;
  finish(): unknown;
}

export interface GpuDeviceLike {
  readonly queue: { writeBuffer(buffer: GpuBufferLike, offset: number, data: ArrayBufferView): void; submit(commandBuffers: unknown[]): void };
  createBuffer(descriptor: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBufferLike;
  createCommandEncoder(): GpuCommandEncoderLike;
  destroy(): void;
}

export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance'; forceFallbackAdapter?: boolean }): Promise<GpuAdapterLike | null>;
}

/** GPUBufferUsage flags (the W3C constants). */
export const gpuBufferUsage = { mapRead: 0x0001, copySource: 0x0004, copyDestination: 0x0008, storage: 0x0080 } as const;

/** GPUMapMode.READ. */
export const gpuMapModeRead = 0x0001;

/** `navigator.gpu` where this runtime has it (browsers with WebGPU), else undefined (Node, old browsers). */
export function navigatorGpu(): GpuLike | undefined {
  const navigatorLike = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return navigatorLike?.gpu;
}
