import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionProviderProbe } from '@qaq/backend-spec';
import ort from 'onnxruntime-node';
import { readCudaProviderManifest, onnxruntimeNodeVersion } from './cuda-provider-manifest.js';
import {
  cudaDriverLibrary,
  cudaLibraryRequirements,
  cudaProviderLibraries,
  cudaProviderLibrary,
  pinnedCudaProvider,
  type CudaLibraryRequirements,
} from './cuda-requirements.js';
import { cudaLibraryFolders, cudaLibraryPathVariable, resolveLibraries, type ResolvedLibrary } from './library-folders.js';
import { probeModel } from './probe-model.js';
import { checkSharedLibrary, onnxruntimeBinaryFolder, preloadSharedLibrary, type LibraryCheck } from './shared-library.js';

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

/** What probeCuda looks at; tests replace it with fake library folders and a fake loader. */
export interface CudaProbeEnvironment {
  readonly platform: string;
  readonly arch: string;
  /** onnxruntime-node's binary folder: onnxruntime loads the provider libraries from beside libonnxruntime.so.1. */
  readonly binaryFolder: string;
  readonly onnxruntimeVersion: string;
  readonly variables: NodeJS.ProcessEnv;
  /** Loads a library by path or name for the rest of the process (preloadSharedLibrary). */
  readonly load: (pathOrName: string) => LibraryCheck;
  /** Opens a one-node session on CUDA; the error message when that fails. */
  readonly tryCuda: () => Promise<string | undefined>;
}

export function processCudaProbeEnvironment(): CudaProbeEnvironment {
  return {
    platform: process.platform,
    arch: process.arch,
    binaryFolder: onnxruntimeBinaryFolder(),
    onnxruntimeVersion: onnxruntimeNodeVersion(),
    variables: process.env,
    load: preloadSharedLibrary,
    tryCuda: () => tryProvider('cuda'),
  };
}

const installHint =
  `run "pnpm qaq gpu install" (pip installs ${pinnedCudaProvider.providerWheel} and the CUDA ${pinnedCudaProvider.cudaMajor} / ` +
  `cuDNN ${pinnedCudaProvider.cudnnMajor} wheels it needs; onnxruntime-node's own install script fetches them from NuGet, often unreachable)`;

function describeFailures(results: readonly ResolvedLibrary[]): string {
  return results.map((result) => `${result.library}${result.path === undefined ? '' : ` at ${result.path}`}: ${result.error ?? 'cannot be loaded'}`).join('; ');
}

/** The CUDA libraries the installed provider needs and the folders they are searched in first; undefined without a provider. */
export function cudaLibraryPlan(
  environment: Pick<CudaProbeEnvironment, 'binaryFolder' | 'variables'>,
): { requirements: CudaLibraryRequirements; folders: string[] } | undefined {
  const providerPath = join(environment.binaryFolder, cudaProviderLibrary);
  if (!existsSync(providerPath)) return undefined;
  const manifest = readCudaProviderManifest(environment.binaryFolder);
  return {
    requirements: cudaLibraryRequirements(providerPath),
    folders: cudaLibraryFolders(environment.variables, manifest?.libraryFolders ?? []),
  };
}

/**
 * Says precisely why CUDA cannot run: provider libraries absent or from another onnxruntime version, CUDA/cuDNN
 * libraries (read from the provider's own DT_NEEDED, plus the cuDNN/cuFFT it dlopens) that cannot be loaded, no
 * driver, no device. Libraries found in QAQ_CUDA_LIBRARY_PATH or the install manifest's folders are loaded for the
 * rest of the process, which is what lets onnxruntime find them afterwards without LD_LIBRARY_PATH.
 */
export async function probeCudaIn(environment: CudaProbeEnvironment): Promise<ExecutionProviderProbe> {
  if (environment.platform !== 'linux' || environment.arch !== 'x64') {
    return {
      name: 'cuda',
      available: false,
      reason: 'not-supported',
      missing: [],
      details: `This backend probes CUDA on linux/x64 only; this is ${environment.platform}/${environment.arch}`,
    };
  }
  const missingProviders = cudaProviderLibraries.filter((name) => !existsSync(join(environment.binaryFolder, name)));
  const driver = resolveLibraries([cudaDriverLibrary], cudaLibraryFolders(environment.variables, []), environment.load)[0]!;
  const driverSentence = driver.loadable
    ? ''
    : ` No CUDA driver: ${cudaDriverLibrary} cannot be loaded (${driver.error ?? ''}); install the NVIDIA driver (>= ${pinnedCudaProvider.minimumDriver} for CUDA ${pinnedCudaProvider.cudaMajor}).`;
  if (missingProviders.length > 0) {
    return {
      name: 'cuda',
      available: false,
      reason: 'missing-library',
      missing: [...missingProviders, ...(driver.loadable ? [] : [cudaDriverLibrary])],
      details: `onnxruntime-node's CUDA provider libraries (${missingProviders.join(', ')}) are not in ${environment.binaryFolder}: ${installHint}.${driverSentence}`,
    };
  }
  const manifest = readCudaProviderManifest(environment.binaryFolder);
  if (manifest !== undefined && manifest.onnxruntimeVersion !== environment.onnxruntimeVersion) {
    return {
      name: 'cuda',
      available: false,
      reason: 'missing-library',
      missing: [`${cudaProviderLibrary} (onnxruntime ${environment.onnxruntimeVersion})`],
      details:
        `The CUDA provider in ${environment.binaryFolder} is from onnxruntime ${manifest.onnxruntimeVersion}, but onnxruntime-node is ` +
        `${environment.onnxruntimeVersion}: the provider must come from the same onnxruntime build; ${installHint}.`,
    };
  }
  let plan: ReturnType<typeof cudaLibraryPlan>;
  try {
    plan = cudaLibraryPlan(environment)!;
  } catch (error) {
    // A provider file that is not a shared library (a broken download): say so rather than fail the whole probe.
    return { name: 'cuda', available: false, reason: 'probe-failed', missing: [], details: `${messageOf(error)}; ${installHint}.` };
  }
  const { requirements, folders } = plan;
  const libraries = [...requirements.linked, ...requirements.loadedAtRuntime];
  const missingRuntime = resolveLibraries(libraries, folders, environment.load).filter((result) => !result.loadable);
  const searched = `searched ${folders.length > 0 ? `${folders.join(', ')}, then ` : ''}LD_LIBRARY_PATH and the ld cache`;
  const cudaName = `CUDA ${requirements.cudaMajor ?? '?'} / cuDNN ${pinnedCudaProvider.cudnnMajor}`;
  if (missingRuntime.length > 0) {
    return {
      name: 'cuda',
      available: false,
      reason: 'missing-library',
      missing: [...missingRuntime.map((result) => result.library), ...(driver.loadable ? [] : [cudaDriverLibrary])],
      details:
        `${cudaName} libraries the CUDA provider needs cannot be loaded (${searched}): ${describeFailures(missingRuntime)}. ` +
        `${installHint}, or set ${cudaLibraryPathVariable} to the folders that hold them.${driverSentence}`,
    };
  }
  if (!driver.loadable) {
    return { name: 'cuda', available: false, reason: 'missing-driver', missing: [cudaDriverLibrary], details: `The provider and its ${cudaName} libraries load.${driverSentence}` };
  }
  const failure = await environment.tryCuda();
  if (failure === undefined) return { name: 'cuda', available: true, details: `A session ran on the CUDA provider (${cudaName})` };
  const noDevice = /no CUDA-capable device|cudaErrorNoDevice|CUDA_ERROR_NO_DEVICE/i.test(failure);
  const oldDriver = /driver version is insufficient|cudaErrorInsufficientDriver|CUDA_ERROR_SYSTEM_DRIVER_MISMATCH/i.test(failure);
  return {
    name: 'cuda',
    available: false,
    reason: noDevice ? 'missing-adapter' : oldDriver ? 'missing-driver' : 'probe-failed',
    missing: noDevice ? ['CUDA device'] : oldDriver ? [`NVIDIA driver >= ${pinnedCudaProvider.minimumDriver}`] : [],
    details: `Every library loads, but a CUDA session failed: ${failure}`,
  };
}

export async function probeCuda(): Promise<ExecutionProviderProbe> {
  return probeCudaIn(processCudaProbeEnvironment());
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
