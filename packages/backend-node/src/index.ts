export { createNodeBackend, type NodeBackend } from './node-backend.js';
export { NodeSession } from './node-session.js';
export { NodeCpuTensor, NodeGpuTensor } from './node-tensor.js';
export {
  nodePlacement,
  placementsFromLog,
  sessionPlacementLog,
  type NodePlacement,
  type NodePlacementOptions,
  type SessionPlacementLog,
} from './placement.js';
export { assertGpuPlacement, type GpuOnlyNodes, type GpuPlacementCheck, type GpuPlacementReport } from './placement-check.js';
export { parsePlacementLog, shortProviderName, type PlacementBlock } from './placement-log.js';
export { readGraphNodes, type GraphNode } from './onnx-graph-nodes.js';
export {
  cudaLibraryPlan,
  probeCpu,
  probeCuda,
  probeCudaIn,
  probeWebGpu,
  probeProviders,
  processCudaProbeEnvironment,
  type CudaProbeEnvironment,
} from './probe.js';
export { cudaDriverLibrary, cudaLibraryRequirements, cudaProviderLibraries, pinnedCudaProvider, type CudaLibraryRequirements } from './cuda-requirements.js';
export {
  cudaProviderManifestName,
  onnxruntimeNodeVersion,
  readCudaProviderManifest,
  type CudaProviderManifest,
} from './cuda-provider-manifest.js';
export { installCudaProvider, pinnedWheels, type InstallCudaProviderOptions, type InstallCudaProviderResult } from './install-cuda-provider.js';
export { cudaLibraryFolders, cudaLibraryPathVariable, resolveLibraries, type ResolvedLibrary } from './library-folders.js';
export { readElfDynamicInfo, type ElfDynamicInfo } from './elf-dependencies.js';
export { checkSharedLibrary, onnxruntimeBinaryFolder, preloadSharedLibrary, type LibraryCheck } from './shared-library.js';
export { toOrtSessionOptions, type NodeSessionOptions } from './session-options.js';
export { findOrtProfile, readOrtProfile, summarizeOrtProfile, type OperatorTime, type OrtProfileSummary } from './ort-profile.js';
