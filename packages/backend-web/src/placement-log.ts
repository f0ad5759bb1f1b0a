// onnxruntime's node-placement log, as onnxruntime-web prints it (to the browser console, or to stderr in Node).
// Pure text processing: no DOM, no Node.

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

const header = /(All nodes|Node\(s\)) placed on \[([^\]]+)\]\. Number of nodes: (\d+)/;
const nodeLine = /VerifyEachNodeIsAssignedToAnEp\]\s{2,}(.*)$/;
const nodeEntry = /([\w.:-]+) \(([^)]*)\)/g;

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
  const lines = typeof log === 'string' ? log.split(/\r?\n/) : log.flatMap((message) => message.split(/\r?\n/));
  const blocks: { executionProvider: string; provider: string; nodeCount: number; nodes: PlacedNode[] | undefined }[] = [];
  let current: { nodes: PlacedNode[] | undefined } | undefined;
  for (const line of lines) {
    const blockHeader = header.exec(line);
    if (blockHeader !== null) {
      const all = blockHeader[1] === 'All nodes';
      const executionProvider = blockHeader[2] ?? '';
      const block = { executionProvider, provider: webProviderName(executionProvider), nodeCount: Number(blockHeader[3]), nodes: all ? undefined : ([] as PlacedNode[]) };
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

/** Node counts per provider (spec spelling) over the blocks of one session. */
export function placementCounts(blocks: readonly PlacementBlock[]): Readonly<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const block of blocks) counts[block.provider] = (counts[block.provider] ?? 0) + block.nodeCount;
  return counts;
}
