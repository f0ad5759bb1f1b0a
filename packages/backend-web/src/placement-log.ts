// onnxruntime's node-placement log, as onnxruntime-web prints it (to the browser console, or to stderr in Node).
// Pure text processing: no DOM, no Node.

import { parsePlacementBlocks } from '@qaq/backend-common';

/** One node of a placement block. */
export interface PlacedNode {
  readonly opType: string;
  readonly name: string;
}

/** One "Node(s) placed on [X]" or "All nodes placed on [X]" block of onnxruntime's verbose log. */
export interface PlacementBlock {
  /** onnxruntime's provider name, e.g. 'WebGpuExecutionProvider'. */
  readonly executionProvider: string;
  /** The same in the spec's spelling: 'webgpu', 'wasm' (onnxruntime-web's CPU provider), 'cpu' elsewhere. */
  readonly provider: string;
  readonly nodeCount: number;
  /** The nodes listed under the block; undefined for "All nodes placed on [X]", which lists none. */
  readonly nodes: readonly PlacedNode[] | undefined;
}

/** onnxruntime's provider names in the spec's spelling (onnxruntime-web's CPU provider is the 'wasm' one). */
export function webProviderName(executionProvider: string): string {
  const known: Record<string, string> = {
    CPUExecutionProvider: 'wasm',
    WebGpuExecutionProvider: 'webgpu',
    JsExecutionProvider: 'webgpu',
    WebNNExecutionProvider: 'webnn',
    XnnpackExecutionProvider: 'xnnpack',
  };
  return known[executionProvider] ?? executionProvider;
}

/**
 * Parses the "Node placements" section onnxruntime logs at verbose severity while a session initializes
 * (session_state.cc, VerifyEachNodeIsAssignedToAnEp). Takes the whole log or its lines (e.g. console messages as
 * Playwright reports them, one message per line). Node lines come one per node ("   MatMul (node_name)") or
 * comma-separated; both are read. Lines of other sessions or other sources between blocks end a block's node list.
 */
export function parsePlacementLog(log: string | readonly string[]): PlacementBlock[] {
  return parsePlacementBlocks(log).map((block) => ({ ...block, provider: webProviderName(block.executionProvider) }));
}

/** Node counts per provider (spec spelling) over the blocks of one session. */
export function placementCounts(blocks: readonly PlacementBlock[]): Readonly<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const block of blocks) counts[block.provider] = (counts[block.provider] ?? 0) + block.nodeCount;
  return counts;
}
