export { createNodeBackend, type NodeBackend } from './node-backend.js';
export { NodeSession } from './node-session.js';
export { NodeCpuTensor, NodeGpuTensor } from './node-tensor.js';
export { nodePlacement, type NodePlacement, type NodePlacementOptions } from './placement.js';
export { parsePlacementLog, shortProviderName, type PlacementBlock } from './placement-log.js';
export { readGraphNodes, type GraphNode } from './onnx-graph-nodes.js';
export { probeCpu, probeCuda, probeWebGpu, probeProviders } from './probe.js';
export { checkSharedLibrary, onnxruntimeBinaryFolder, type LibraryCheck } from './shared-library.js';
