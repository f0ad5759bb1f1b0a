import type { ExecutionProviderProbe } from '@qaq/backend-spec';
import ort from 'onnxruntime-node';
import { probeModel } from './probe-model.js';
import { checkSharedLibrary, missingProviderLibraries, onnxruntimeBinaryFolder } from './shared-library.js';

/** onnxruntime's provider bridge and CUDA provider, installed beside the binding by onnxruntime-node's postinstall. */
export const cudaProviderLibraries = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
/** The driver and the CUDA 12 / cuDNN 9 libraries the CUDA provider of onnxruntime 1.30 links against. */
export const cudaDriverLibrary = 'libcuda.so.1';
export const cudaRuntimeLibraries = [
  'libcudart.so.12',
  'libcublas.so.12',
  'libcublasLt.so.12',
  'libcufft.so.11',
  'libcurand.so.10',
  'libcudnn.so.9',
];
export const vulkanLoaderLibrary = 'libvulkan.so.1';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Loads the probe model on exactly `provider`; the error message when that fails. */
export async function tryProvider(provider: string): Promise<string | undefined> {
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: [provider] });
    await session.release();
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}

export async function probeCpu(): Promise<ExecutionProviderProbe> {
  const failure = await tryProvider('cpu');
  if (failure === undefined) return { name: 'cpu', available: true };
  return { name: 'cpu', available: false, reason: 'probe-failed', missing: [], details: failure };
}

export async function probeCuda(): Promise<ExecutionProviderProbe> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return {
      name: 'cuda',
      available: false,
      reason: 'not-supported',
      missing: [],
      details: `This backend probes CUDA on linux/x64 only; this is ${process.platform}/${process.arch}`,
    };
  }
  const missingProviders = missingProviderLibraries(cudaProviderLibraries);
  const driver = checkSharedLibrary(cudaDriverLibrary);
  const runtimeChecks = cudaRuntimeLibraries.map((library) => checkSharedLibrary(library));
  const missingRuntime = runtimeChecks.filter((check) => !check.loadable).map((check) => check.library);
  const sentences: string[] = [];
  if (missingProviders.length > 0) {
    sentences.push(
      `onnxruntime-node's CUDA provider libraries (${missingProviders.join(', ')}) are not in ${onnxruntimeBinaryFolder()}: ` +
        `its install script was skipped or could not reach NuGet; reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12, or copy them ` +
        `from the Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 package.`,
    );
  }
  if (!driver.loadable) sentences.push(`The NVIDIA driver library ${cudaDriverLibrary} cannot be loaded (${driver.error ?? ''}).`);
  if (missingRuntime.length > 0) {
    sentences.push(`CUDA 12 / cuDNN 9 libraries cannot be loaded: ${missingRuntime.join(', ')} (install them or add them to LD_LIBRARY_PATH).`);
  }
  if (!driver.loadable && missingProviders.length === 0 && missingRuntime.length === 0) {
    return { name: 'cuda', available: false, reason: 'missing-driver', missing: [cudaDriverLibrary], details: sentences.join(' ') };
  }
  const missing = [...missingProviders, ...(driver.loadable ? [] : [cudaDriverLibrary]), ...missingRuntime];
  if (missing.length > 0) {
    return { name: 'cuda', available: false, reason: 'missing-library', missing, details: sentences.join(' ') };
  }
  const failure = await tryProvider('cuda');
  if (failure === undefined) return { name: 'cuda', available: true, details: 'A session ran on the CUDA provider' };
  return {
    name: 'cuda',
    available: false,
    reason: /no CUDA-capable device|cudaErrorNoDevice/i.test(failure) ? 'missing-adapter' : 'probe-failed',
    missing: [],
    details: `Every library loads, but a CUDA session failed: ${failure}`,
  };
}

export async function probeWebGpu(): Promise<ExecutionProviderProbe> {
  const failure = await tryProvider('webgpu');
  if (failure === undefined) return { name: 'webgpu', available: true, details: 'A session ran on the WebGPU provider' };
  const adapterMissing = /Failed to get a WebGPU adapter/i.test(failure);
  const vulkan = process.platform === 'linux' ? checkSharedLibrary(vulkanLoaderLibrary) : undefined;
  const details = failure.slice(failure.indexOf('Failed to get') >= 0 ? failure.indexOf('Failed to get') : 0);
  if (adapterMissing && vulkan !== undefined && !vulkan.loadable) {
    return {
      name: 'webgpu',
      available: false,
      reason: 'missing-driver',
      missing: [vulkanLoaderLibrary],
      details: `${details} (Dawn runs on Vulkan here and ${vulkanLoaderLibrary} cannot be loaded: install a Vulkan driver)`,
    };
  }
  return {
    name: 'webgpu',
    available: false,
    reason: adapterMissing ? 'missing-adapter' : 'probe-failed',
    missing: adapterMissing ? ['WebGPU adapter'] : [],
    details,
  };
}

/** Probes every provider this backend can ask onnxruntime-node for. */
export async function probeProviders(): Promise<ExecutionProviderProbe[]> {
  return [await probeCpu(), await probeCuda(), await probeWebGpu()];
}
