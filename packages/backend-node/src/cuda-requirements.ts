import { readElfDynamicInfo } from './elf-dependencies.js';

/** onnxruntime's provider bridge and CUDA provider; onnxruntime loads both from the folder of libonnxruntime.so.1. */
export const cudaProviderLibraries = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'] as const;
export const cudaProviderLibrary = 'libonnxruntime_providers_cuda.so';
/** The NVIDIA driver's user-space library: it comes with the driver, never from a wheel. */
export const cudaDriverLibrary = 'libcuda.so.1';

/**
 * The pinned PyPI set `qaq gpu install` installs for onnxruntime-node 1.30.0. PyPI's onnxruntime-gpu 1.30.0 is built
 * for CUDA 13 (its provider links libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10 and dlopens
 * libcufft.so.12 and libcudnn.so.9; its `cuda`/`cudnn` extras ask for nvidia-*~=13.0 and nvidia-cudnn-cu13~=9.0).
 * The runtime wheels are the CUDA 13.0 update 2 releases; cuDNN 9.13 for CUDA 13. NVIDIA driver ≥ 580 (CUDA 13).
 */
export const pinnedCudaProvider = {
  onnxruntimeVersion: '1.30.0',
  cudaMajor: 13,
  cudnnMajor: 9,
  minimumDriver: '580',
  providerWheel: 'onnxruntime-gpu==1.30.0',
  runtimeWheels: [
    'nvidia-cuda-runtime==13.0.96',
    'nvidia-cublas==13.0.2.14',
    'nvidia-curand==10.4.0.35',
    'nvidia-cufft==12.0.0.61',
    'nvidia-nvjitlink==13.0.88',
    'nvidia-cuda-nvrtc==13.0.88',
    'nvidia-cudnn-cu13==9.13.1.26',
  ],
} as const;

/** What the CUDA provider loads that is not part of the C/C++ system runtime. */
export interface CudaLibraryRequirements {
  /** The CUDA major the provider was built for, from the libcudart it links (undefined when it links none). */
  readonly cudaMajor: number | undefined;
  /** DT_NEEDED CUDA libraries, without the driver (e.g. libcudart.so.13, libcublas.so.13). */
  readonly linked: readonly string[];
  /** Libraries the provider dlopens by name when it creates its handles (cuDNN, cuFFT), which DT_NEEDED does not show. */
  readonly loadedAtRuntime: readonly string[];
}

const systemLibrary = /^(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux-x86-64|libz)\.so/;

/**
 * Libraries the provider dlopens (not DT_NEEDED), per CUDA major: read from the strings of onnxruntime-gpu 1.30.0's
 * provider ("libcudnn.so.9", "libcufft.so.12"); the CUDA 12 build uses cuFFT 11.
 */
const dlopenedByCudaMajor: Record<number, readonly string[]> = {
  12: ['libcufft.so.11', 'libcudnn.so.9'],
  13: ['libcufft.so.12', 'libcudnn.so.9'],
};

/** The CUDA libraries the provider library at `providerPath` needs, from its own dynamic section. */
export function cudaLibraryRequirements(providerPath: string): CudaLibraryRequirements {
  const { needed } = readElfDynamicInfo(providerPath);
  const linked = needed.filter((name) => !systemLibrary.test(name) && name !== cudaDriverLibrary);
  const cudart = linked.find((name) => name.startsWith('libcudart.so.'));
  const cudaMajor = cudart === undefined ? undefined : Number(cudart.slice('libcudart.so.'.length));
  const loadedAtRuntime = cudaMajor === undefined ? [] : (dlopenedByCudaMajor[cudaMajor] ?? []);
  return { cudaMajor, linked, loadedAtRuntime: loadedAtRuntime.filter((name) => !linked.includes(name)) };
}
