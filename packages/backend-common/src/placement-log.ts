// onnxruntime's node-placement log (session_state.cc, VerifyEachNodeIsAssignedToAnEp), as onnxruntime-node and
// onnxruntime-web print it. Pure text processing: each backend adds its own provider spelling.

/** One node listed under a placement block. */
export interface LoggedNode {
  readonly opType: string;
  readonly name: string;
}

/** One "Node(s) placed on [X]" or "All nodes placed on [X]" block of onnxruntime's verbose log. */
export interface LoggedPlacementBlock {
  /** onnxruntime's provider name, e.g. 'CUDAExecutionProvider'. */
  readonly executionProvider: string;
  readonly nodeCount: number;
  /** The nodes listed under the block; undefined for "All nodes placed on [X]", which lists none. */
  readonly nodes: readonly LoggedNode[] | undefined;
}

const header = /(All nodes|Node\(s\)) placed on \[([^\]]+)\]\. Number of nodes: (\d+)/;
const nodeLine = /VerifyEachNodeIsAssignedToAnEp\]\s{2,}(.*)$/;
const nodeEntry = /([\w.:-]+) \(([^)]*)\)/g;

/**
 * Parses the "Node placements" section onnxruntime logs at verbose severity while a session initializes. Takes
 * the whole log or its lines (e.g. console messages, one message per line). Node lines come one per node
 * ("   MatMul (node_name)") or comma-separated, depending on the build; both are read. Lines of other sessions or
 * other sources between blocks end a block's node list.
 */
export function parsePlacementBlocks(log: string | readonly string[]): LoggedPlacementBlock[] {
  const lines = typeof log === 'string' ? log.split(/\r?\n/) : log.flatMap((message) => message.split(/\r?\n/));
  const blocks: { executionProvider: string; nodeCount: number; nodes: LoggedNode[] | undefined }[] = [];
  let current: { nodes: LoggedNode[] | undefined } | undefined;
  for (const line of lines) {
    const blockHeader = header.exec(line);
    if (blockHeader !== null) {
      const all = blockHeader[1] === 'All nodes';
      const block = { executionProvider: blockHeader[2] ?? '', nodeCount: Number(blockHeader[3]), nodes: all ? undefined : ([] as LoggedNode[]) };
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
