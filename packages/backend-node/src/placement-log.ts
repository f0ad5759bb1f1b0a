import type { GraphNode } from './onnx-graph-nodes.js';

/** One "Node(s) placed on [X]" block of onnxruntime's verbose log. */
export interface PlacementBlock {
  /** onnxruntime's provider name, e.g. 'CUDAExecutionProvider'. */
  readonly executionProvider: string;
  readonly nodeCount: number;
  /** The nodes listed under the block; undefined for "All nodes placed on [X]", which lists none. */
  readonly nodes: readonly GraphNode[] | undefined;
}

const header = /(All nodes|Node\(s\)) placed on \[([^\]]+)\]\. Number of nodes: (\d+)/;
const nodeLine = /VerifyEachNodeIsAssignedToAnEp\]\s{2,}(.*)$/;
const nodeEntry = /([\w.:-]+) \(([^)]*)\)/g;

/**
 * Parses the "Node placements" section that onnxruntime logs at verbose severity while a session initializes
 * (session_state.cc, VerifyEachNodeIsAssignedToAnEp). Node lines come one per node ("   MatMul (node_name)") or
 * comma-separated, depending on the build; both are read.
 */
export function parsePlacementLog(log: string): PlacementBlock[] {
  const blocks: { executionProvider: string; nodeCount: number; nodes: GraphNode[] | undefined }[] = [];
  let current: { nodes: GraphNode[] | undefined } | undefined;
  for (const line of log.split(/\r?\n/)) {
    const blockHeader = header.exec(line);
    if (blockHeader !== null) {
      const all = blockHeader[1] === 'All nodes';
      const block = {
        executionProvider: blockHeader[2] ?? '',
        nodeCount: Number(blockHeader[3]),
        nodes: all ? undefined : ([] as GraphNode[]),
      };
      blocks.push(block);
      current = all ? undefined : block;
      continue;
    }
    const listed = nodeLine.exec(line);
    if (listed === null || current?.nodes === undefined) {
      if (!line.includes('VerifyEachNodeIsAssignedToAnEp')) current = undefined;
      continue;
    }
    for (const entry of (listed[1] ?? '').matchAll(nodeEntry)) {
      current.nodes.push({ opType: entry[1] ?? '', name: entry[2] ?? '' });
    }
  }
  return blocks;
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
