import type { ExecutionProviderProbe } from '@qaq/backend-spec';
import { markEnvironmentStarted } from './web-environment.js';
import { ort } from './ort-web.js';
import { requestBackendDevice } from './gpu-device.js';
import { probeModel } from './probe-model.js';
import { ortExecutionProvider } from './session-options.js';
import { createSessionsInTurn } from './session-creation-queue.js';
import { navigatorGpu, type GpuAdapterLike, type GpuDeviceLike } from './webgpu-types.js';
import type { WebProviderName } from './web-providers.js';

/** What the browser says about its WebGPU adapter (for reports: which GPU, or SwiftShader, ran the test). */
export interface WebGpuAdapterSummary {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean | undefined;
  /** 'shader-f16' missing means fp16 graphs cannot run (SwiftShader has none): use fp32 graphs there. */
  readonly shaderF16: boolean;
  readonly features: readonly string[];
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
}

/** What the WebAssembly runtime offers: onnxruntime-web 1.30 ships SIMD builds only; threads need cross-origin isolation. */
export interface WasmSummary {
  readonly simd: boolean;
  readonly threads: boolean;
  /** Whether SharedArrayBuffer is usable here (browsers: only on cross-origin isolated pages). */
  readonly sharedArrayBuffer: boolean;
}

// The smallest modules using a SIMD instruction (v128.const / i8x16.popcnt) and a shared memory with an atomic op:
// the feature tests of the wasm-feature-detect project.
const simdModule = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
const threadsModule = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11,
]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** The WebAssembly features this runtime has (no module is started). */
export function summarizeWasm(): WasmSummary {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  // Node has no crossOriginIsolated and always allows SharedArrayBuffer; browsers need isolation (COOP + COEP).
  const sharedArrayBuffer = typeof SharedArrayBuffer === 'function' && isolated !== false;
  return { simd: validates(simdModule), threads: sharedArrayBuffer && validates(threadsModule), sharedArrayBuffer };
}

export function summarizeAdapter(adapter: GpuAdapterLike): WebGpuAdapterSummary {
  const features: string[] = [];
  adapter.features.forEach((feature) => features.push(feature));
  const info = adapter.info;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: info?.isFallbackAdapter,
    shaderF16: adapter.features.has('shader-f16'),
    features: features.sort(),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Loads and runs the probe model on `provider`; returns the failure message, or undefined when 1 + 1 came out 2. */
async function runProbeModel(provider: WebProviderName, device?: GpuDeviceLike): Promise<string | undefined> {
  markEnvironmentStarted();
  let session: ort.InferenceSession | undefined;
  try {
    session = await createSessionsInTurn(() => ort.InferenceSession.create(probeModel(), { executionProviders: [ortExecutionProvider(provider, device)] }));
    const x = new ort.Tensor('float32', new Float32Array([1]), [1]);
    const y = (await session.run({ x }))['y'];
    const value = y === undefined ? undefined : (await y.getData())[0];
    y?.dispose();
    return value === 2 ? undefined : `the probe model computed 1 + 1 = ${String(value)}`;
  } catch (error) {
    return messageOf(error);
  } finally {
    await session?.release();
  }
}

export interface WebGpuProbe {
  readonly probe: ExecutionProviderProbe;
  readonly adapter: WebGpuAdapterSummary | undefined;
  /** The device made for the backend (see gpu-device.ts); undefined when WebGPU is unavailable. */
  readonly device: GpuDeviceLike | undefined;
}

/**
 * WebGPU: `navigator.gpu` present, an adapter granted, a device made from it, then the one-node model loaded and
 * run on onnxruntime-web's WebGPU provider with that device.
 */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = navigatorGpu();
  if (gpu === undefined) {
    return {
      adapter: undefined,
      device: undefined,
      probe: {
        name: 'webgpu',
        available: false,
        reason: 'not-supported',
        missing: ['navigator.gpu'],
        details:
          'This runtime has no WebGPU (navigator.gpu is undefined): Node, or a browser without WebGPU. Headless Chromium on Linux needs --enable-unsafe-webgpu (and --use-webgpu-adapter=swiftshader without a GPU).',
      },
    };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    return {
      adapter: undefined,
      device: undefined,
      probe: { name: 'webgpu', available: false, reason: 'probe-failed', missing: [], details: `navigator.gpu.requestAdapter() threw: ${messageOf(error)}` },
    };
  }
  if (adapter === null) {
    return {
      adapter: undefined,
      device: undefined,
      probe: {
        name: 'webgpu',
        available: false,
        reason: 'missing-adapter',
        missing: ['GPUAdapter'],
        details: 'navigator.gpu.requestAdapter() returned null: the browser offers no WebGPU adapter here (blocklisted GPU, or WebGPU disabled).',
      },
    };
  }
  const summary = summarizeAdapter(adapter);
  const described = `${summary.vendor || 'unknown vendor'} ${summary.architecture || summary.device || summary.description}`.trim();
  let device: GpuDeviceLike;
  try {
    device = await requestBackendDevice(adapter);
  } catch (error) {
    return {
      adapter: summary,
      device: undefined,
      probe: { name: 'webgpu', available: false, reason: 'missing-adapter', missing: ['GPUDevice'], details: `adapter ${described} found, but requestDevice() failed: ${messageOf(error)}` },
    };
  }
  const failure = await runProbeModel('webgpu', device);
  if (failure !== undefined) {
    device.destroy();
    return {
      adapter: summary,
      device: undefined,
      probe: { name: 'webgpu', available: false, reason: 'probe-failed', missing: [], details: `adapter ${described} found, but onnxruntime-web's WebGPU provider failed: ${failure}` },
    };
  }
  const notes = [`adapter ${described}`, summary.isFallbackAdapter === true ? 'software fallback adapter' : undefined, summary.shaderF16 ? 'shader-f16' : 'no shader-f16 (fp32 graphs only)'];
  return { adapter: summary, device, probe: { name: 'webgpu', available: true, details: notes.filter((note) => note !== undefined).join('; ') } };
}

export interface WasmProbe {
  readonly probe: ExecutionProviderProbe;
  readonly wasm: WasmSummary;
}

/** WebAssembly: SIMD (onnxruntime-web 1.30 has no build without it), threads reported, then the one-node model run. */
export async function probeWasm(): Promise<WasmProbe> {
  const wasm = summarizeWasm();
  if (!wasm.simd) {
    return {
      wasm,
      probe: {
        name: 'wasm',
        available: false,
        reason: 'not-supported',
        missing: ['wasm-simd'],
        details: 'This runtime lacks WebAssembly SIMD, which every onnxruntime-web 1.30 build needs.',
      },
    };
  }
  const failure = await runProbeModel('wasm');
  if (failure !== undefined) {
    return { wasm, probe: { name: 'wasm', available: false, reason: 'probe-failed', missing: [], details: `onnxruntime-web's WebAssembly module failed: ${failure}` } };
  }
  const threads = wasm.threads ? `threads available (onnxruntime-web numThreads ${String(ort.env.wasm.numThreads ?? 'default')})` : 'single-threaded (no cross-origin isolation, so no SharedArrayBuffer)';
  return { wasm, probe: { name: 'wasm', available: true, details: `SIMD; ${threads}` } };
}
