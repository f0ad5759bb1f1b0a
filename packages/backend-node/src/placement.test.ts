import { fixtureModel } from '@qaq/backend-conformance';
import { describe, expect, it } from 'vitest';
import { nodePlacement } from './placement.js';
import { parsePlacementLog } from './placement-log.js';
import { readGraphNodes } from './onnx-graph-nodes.js';

describe('parsePlacementLog', () => {
  it('reads per-provider blocks, one node per line or comma-separated', () => {
    const log = [
      '2026-11-28 00:39:59.49 [I:onnxruntime:, inference_session.cc:2657 Initialize] Adding default CPU execution provider.',
      '2026-11-28 00:39:59.49 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements',
      '2026-11-28 00:39:59.49 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CUDAExecutionProvider]. Number of nodes: 2',
      '2026-11-28 00:39:59.49 [V:onnxruntime:, session_state.cc:1386 VerifyEachNodeIsAssignedToAnEp]   MatMul (/layers.0/attn/q_proj/MatMul)',
      '2026-11-28 00:39:59.49 [V:onnxruntime:, session_state.cc:1386 VerifyEachNodeIsAssignedToAnEp]   MemcpyFromHost (Memcpy)',
      '2026-11-28 00:39:59.49 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2',
      '2026-11-28 00:39:59.49 [V:onnxruntime:, session_state.cc:1386 VerifyEachNodeIsAssignedToAnEp]   BitShift (unpack_shift), BitwiseAnd (unpack_mask)',
      '2026-11-28 00:39:59.49 [W:onnxruntime:, session_state.cc:1390 VerifyEachNodeIsAssignedToAnEp] Some nodes were not assigned to the preferred execution providers which may or may not have an negative impact on performance.',
      '2026-11-28 00:39:59.49 [V:onnxruntime:, session_state.cc:186 CreateGraphInfo] SaveMLValueNameIndexMapping',
    ].join('\n');
    expect(parsePlacementLog(log)).toEqual([
      {
        executionProvider: 'CUDAExecutionProvider',
        nodeCount: 2,
        nodes: [
          { opType: 'MatMul', name: '/layers.0/attn/q_proj/MatMul' },
          { opType: 'MemcpyFromHost', name: 'Memcpy' },
        ],
      },
      {
        executionProvider: 'CPUExecutionProvider',
        nodeCount: 2,
        nodes: [
          { opType: 'BitShift', name: 'unpack_shift' },
          { opType: 'BitwiseAnd', name: 'unpack_mask' },
        ],
      },
    ]);
  });

  it('reads the single-provider summary, which lists no nodes', () => {
    const log = '[V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 3';
    expect(parsePlacementLog(log)).toEqual([{ executionProvider: 'CPUExecutionProvider', nodeCount: 3, nodes: undefined }]);
  });
});

describe('readGraphNodes', () => {
  it('lists the nodes of an ONNX model in order', () => {
    expect(readGraphNodes(fixtureModel('multiOutput'))).toEqual([
      { opType: 'Add', name: 'double_node' },
      { opType: 'Mul', name: 'square_node' },
      { opType: 'Neg', name: 'negate_node' },
    ]);
  });
});

describe('nodePlacement', () => {
  it('places every node of a CPU session on the CPU, by name', async () => {
    const placements = await nodePlacement(fixtureModel('multiOutput'), ['cpu'], { graphOptimizationLevel: 'disabled' });
    expect(placements).toEqual([
      { node: 'double_node', opType: 'Add', provider: 'cpu', executionProvider: 'CPUExecutionProvider' },
      { node: 'square_node', opType: 'Mul', provider: 'cpu', executionProvider: 'CPUExecutionProvider' },
      { node: 'negate_node', opType: 'Neg', provider: 'cpu', executionProvider: 'CPUExecutionProvider' },
    ]);
  });

  it('loads the model with the session config entries it is given: onnxruntime rejects a bad one, a good one loads', async () => {
    await expect(
      nodePlacement(fixtureModel('add'), ['cpu'], { configEntries: { 'session.dynamic_block_base': 'not-a-number' } }),
    ).rejects.toMatchObject({ code: 'invalid-model' }); // onnxruntime's own message is just "stoi"
    const placements = await nodePlacement(fixtureModel('add'), ['cpu'], { configEntries: { 'session.dynamic_block_base': '4' } });
    expect(placements.map((placement) => placement.provider)).toEqual(['cpu']);
    await expect(nodePlacement(fixtureModel('add'), ['cpu'], { configEntries: { 'session.dynamic_block_base': 4 } as never })).rejects.toMatchObject({
      code: 'invalid-option',
    });
  });

  it('reports a model that does not load as invalid-model', async () => {
    await expect(nodePlacement(new Uint8Array([1, 2, 3]), ['cpu'])).rejects.toMatchObject({ code: 'invalid-model' });
  });
});
