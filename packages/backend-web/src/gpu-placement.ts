import { QaqError } from '@qaq/errors';
import { placementCounts, type PlacedNode, type PlacementBlock } from './placement-log.js';

/** A node that ran somewhere it must not, with the provider it landed on. */
export interface MisplacedNode extends PlacedNode {
  readonly executionProvider: string;
}

/**
 * Fails loudly when a graph marked GPU-only did not run entirely on `provider` (default 'webgpu'): throws
 * QaqError('node-off-gpu') listing every node onnxruntime put elsewhere (typically on its CPU provider because
 * WebGPU lacks a kernel), or QaqError('placement-log-missing') when the log holds no placement at all (verbose
 * logging was off or not captured: no evidence is not a pass). Returns the node counts per provider.
 */
export function assertPlacedOn(blocks: readonly PlacementBlock[], provider = 'webgpu'): Readonly<Record<string, number>> {
  if (blocks.length === 0) {
    throw new QaqError('placement-log-missing', 'No node placement found in the log: run the session with verbose logging (logSeverityLevel 0) and capture it', {
      details: { expected: provider },
    });
  }
  const counts = placementCounts(blocks);
  const elsewhere = blocks.filter((block) => block.provider !== provider && block.nodeCount > 0);
  if (elsewhere.length === 0) return counts;
  const misplaced: MisplacedNode[] = elsewhere.flatMap((block) =>
    (block.nodes ?? [{ opType: '*', name: `all ${block.nodeCount} nodes` }]).map((node) => ({ ...node, executionProvider: block.executionProvider })),
  );
  const listed = misplaced.slice(0, 12).map((node) => `${node.opType} (${node.name}) on ${node.executionProvider}`);
  throw new QaqError(
    'node-off-gpu',
    `${misplaced.length} node(s) of a GPU-only graph did not run on ${provider}: ${listed.join(', ')}${misplaced.length > 12 ? ', …' : ''}`,
    { details: { expected: provider, counts, misplaced } },
  );
}
