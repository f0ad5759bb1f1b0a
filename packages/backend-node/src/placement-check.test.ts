import { fixtureModel } from '@qaq/backend-conformance';
import { describe, expect, it } from 'vitest';
import { assertGpuPlacement } from './placement-check.js';
import { sessionPlacementLog } from './placement.js';

const prefix = '2026-11-28 00:39:59.49 [V:onnxruntime:, session_state.cc:1386 VerifyEachNodeIsAssignedToAnEp]';
const mixedLog = [
  `${prefix.replace('1386', '1383')}  Node(s) placed on [CUDAExecutionProvider]. Number of nodes: 3`,
  `${prefix}   MatMul (attention/scores)`,
  `${prefix}   Softmax (attention/softmax)`,
  `${prefix}   MemcpyFromHost (Memcpy)`,
  `${prefix.replace('1386', '1383')}  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2`,
  `${prefix}   BitShift (attention/unpack_shift), Shape (shape_of_input)`,
].join('\n');

describe('assertGpuPlacement', () => {
  it('passes when every marked node ran on the GPU provider, and counts nodes per provider', () => {
    const report = assertGpuPlacement(mixedLog, { provider: 'cuda', gpuOnly: ['attention/scores', 'attention/softmax', 'attention/fused_away'] });
    expect(report.checked.map((placement) => placement.node)).toEqual(['attention/scores', 'attention/softmax']);
    expect(report.notFound).toEqual(['attention/fused_away']);
    expect(report.nodesPerProvider).toEqual({ CUDAExecutionProvider: 3, CPUExecutionProvider: 2 });
  });

  it('names each marked node that fell back to the CPU and the op to replace', () => {
    let caught: unknown;
    try {
      assertGpuPlacement(mixedLog, { provider: 'cuda', gpuOnly: /^attention\// });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'placement-fallback', details: { opTypes: ['BitShift'] } });
    expect(String((caught as Error).message)).toContain('1 of 3 GPU-only nodes did not run on cuda: BitShift (attention/unpack_shift) on CPUExecutionProvider');
  });

  it('accepts a predicate, and refuses a check that matches no node', () => {
    expect(() => assertGpuPlacement(mixedLog, { provider: 'cuda', gpuOnly: (node) => node.opType === 'Shape' })).toThrow(/Shape \(shape_of_input\)/);
    expect(() => assertGpuPlacement(mixedLog, { provider: 'cuda', gpuOnly: ['not/in/graph'] })).toThrow(
      expect.objectContaining({ code: 'placement-empty' }),
    );
  });

  it('on a real CPU session log: everything marked GPU-only is reported as a CPU fallback', async () => {
    const { log, optimizedNodes } = await sessionPlacementLog(fixtureModel('multiOutput'), ['cpu'], { graphOptimizationLevel: 'disabled' });
    expect(() => assertGpuPlacement(log, { provider: 'cuda', optimizedNodes })).toThrow(
      expect.objectContaining({
        code: 'placement-fallback',
        message: expect.stringContaining('3 of 3 GPU-only nodes did not run on cuda: Add (double_node) on CPUExecutionProvider'),
      }),
    );
    // Without the optimized graph the "All nodes placed" summary cannot be mapped to nodes.
    expect(() => assertGpuPlacement(log, { provider: 'cuda' })).toThrow(/placed 3 nodes on CPUExecutionProvider, 0 were found/);
  });
});
