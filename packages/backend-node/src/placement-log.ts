import { parsePlacementBlocks } from '@qaq/backend-common';
import type { GraphNode } from './onnx-graph-nodes.js';

/** One "Node(s) placed on [X]" block of onnxruntime's verbose log. */
export interface PlacementBlock {
  /** onnxruntime's provider name, e.g. 'CUDAExecutionProvider'. */
  readonly executionProvider: string;
  readonly nodeCount: number;
  /** The nodes listed under the block; undefined for "All nodes placed on [X]", which lists none. */
  readonly nodes: readonly GraphNode[] | undefined;
}

/**
 * Parses the "Node placements" section that onnxruntime logs at verbose severity while a session initializes
 * (session_state.cc, VerifyEachNodeIsAssignedToAnEp). Node lines come one per node ("   MatMul (node_name)") or
 * comma-separated, depending on the build; both are read.
 */
export function parsePlacementLog(log: string): PlacementBlock[] {
  return parsePlacementBlocks(log);
}

/** onnxruntime's provider names in the spec's spelling; others are returned unchanged. */
export function shortProviderName(executionProvider: string): string {
  const known: Record<string, string> = {
    CPUExecutionProvider: 'cpu',
    CUDAExecutionProvider: 'cuda',
    WebGpuExecutionProvider: 'webgpu',
    JsExecutionProvider: 'webgpu',
    TensorrtExecutionProvider: 'tensorrt',
  };
  return known[executionProvider] ?? executionProvider;
}
