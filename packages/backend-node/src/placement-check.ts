import type { ExecutionProviderName } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import type { GraphNode } from './onnx-graph-nodes.js';
import { placementsFromLog, type NodePlacement } from './placement.js';

/** Which nodes of a graph must run on the GPU provider: names, a name pattern, or a predicate. */
export type GpuOnlyNodes = readonly string[] | RegExp | ((node: GraphNode) => boolean);

export interface GpuPlacementCheck {
  /** The GPU provider the marked nodes must run on. */
  readonly provider: Exclude<ExecutionProviderName, 'cpu'>;
  /** The marked nodes (default: every node of the graph). */
  readonly gpuOnly?: GpuOnlyNodes;
  /** The optimized graph's nodes, needed when the log says only "All nodes placed on [X]" (`sessionPlacementLog` gives them). */
  readonly optimizedNodes?: readonly GraphNode[];
}

export interface GpuPlacementReport {
  /** Marked nodes found in the placement, all on the provider. */
  readonly checked: readonly NodePlacement[];
  /** Marked names (a list was given) absent from the optimized graph: fused into another node or removed. */
  readonly notFound: readonly string[];
  /** Node count per onnxruntime provider over the whole graph, marked or not (Memcpy nodes included). */
  readonly nodesPerProvider: Readonly<Record<string, number>>;
}

function matcher(gpuOnly: GpuOnlyNodes | undefined): (node: GraphNode) => boolean {
  if (gpuOnly === undefined) return () => true;
  if (gpuOnly instanceof RegExp) return (node) => gpuOnly.test(node.name);
  if (typeof gpuOnly === 'function') return gpuOnly;
  const names = new Set(gpuOnly);
  return (node) => names.has(node.name);
}

/**
 * Asserts from a session's verbose log (`sessionPlacementLog(model, [provider]).log`, or any log captured at
 * severity 0) that every node marked GPU-only ran on `provider`: onnxruntime silently puts a node on the CPU when the
 * GPU provider has no kernel for it, which costs two copies per run. Throws `placement-fallback` naming each such node
 * and its op type (the op to replace), and `placement-empty` when no marked node is in the placement at all (a check
 * that checks nothing must not pass).
 */
export function assertGpuPlacement(log: string, check: GpuPlacementCheck): GpuPlacementReport {
  const placements = placementsFromLog(log, check.optimizedNodes);
  const isMarked = matcher(check.gpuOnly);
  const marked = placements.filter((placement) => isMarked({ name: placement.node, opType: placement.opType }));
  const nodesPerProvider: Record<string, number> = {};
  for (const placement of placements) nodesPerProvider[placement.executionProvider] = (nodesPerProvider[placement.executionProvider] ?? 0) + 1;
  const placedNames = new Set(placements.map((placement) => placement.node));
  const notFound = Array.isArray(check.gpuOnly) ? check.gpuOnly.filter((name) => !placedNames.has(name)) : [];
  if (marked.length === 0) {
    throw new QaqError('placement-empty', `No node marked GPU-only is in the placement (${placements.length} nodes placed)`, {
      details: { provider: check.provider, placed: placements.length, notFound },
    });
  }
  const fallbacks = marked.filter((placement) => placement.provider !== check.provider);
  if (fallbacks.length > 0) {
    const listed = fallbacks.map((placement) => `${placement.opType} (${placement.node}) on ${placement.executionProvider}`);
    const opTypes = [...new Set(fallbacks.map((placement) => placement.opType))];
    throw new QaqError(
      'placement-fallback',
      `${fallbacks.length} of ${marked.length} GPU-only nodes did not run on ${check.provider}: ${listed.join(', ')}. ` +
        `Replace these ops (${opTypes.join(', ')}) with ones the ${check.provider} provider has kernels for.`,
      { details: { provider: check.provider, fallbacks, opTypes, nodesPerProvider } },
    );
  }
  return { checked: marked, notFound, nodesPerProvider };
}
