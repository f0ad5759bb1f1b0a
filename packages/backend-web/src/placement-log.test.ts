import { describe, expect, it } from 'vitest';
import { parsePlacementLog, placementCounts, webProviderName } from './placement-log.js';

// Lines as Chromium's console delivered them from onnxruntime-web 1.30 (one message per line; timestamps and the
// warning's ANSI colour included), for the multiOutput fixture with negate_node forced onto the CPU.
const browserLines = [
  'qaq-placement-begin multiOutput',
  '2026-11-28 03:20:03.298099 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements',
  '2026-11-28 03:20:03.298498 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 1',
  '2026-11-28 03:20:03.298799 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Neg (negate_node)',
  '2026-11-28 03:20:03.298998 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 3',
  '2026-11-28 03:20:03.299199 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Add (double_node)',
  '2026-11-28 03:20:03.299399 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Mul (square_node)',
  '2026-11-28 03:20:03.299699 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   MemcpyFromHost (Memcpy)',
  '\u001b[0;93m2026-11-28 03:20:03.299899 [W:onnxruntime:, session_state.cc:1397 VerifyEachNodeIsAssignedToAnEp] Some nodes were not assigned to the preferred execution providers which may or may not have an negative impact on performance. e.g. ORT explicitly assigns shape related ops to CPU to improve perf.\u001b[m',
  'qaq-placement-end multiOutput',
];

// onnxruntime-web's wasm provider in Node writes the same text to stderr.
const nodeStderr = `2026-11-28 03:13:16.456818 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements
2026-11-28 03:13:16.456870 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 3
2026-11-28 03:13:16.457000 [V:onnxruntime:, inference_session.cc:2700 Initialize] Session successfully initialized.`;

describe('parsePlacementLog', () => {
  it('reads per-provider blocks with their nodes from console lines', () => {
    const blocks = parsePlacementLog(browserLines);
    expect(blocks).toEqual([
      { executionProvider: 'CPUExecutionProvider', provider: 'wasm', nodeCount: 1, nodes: [{ opType: 'Neg', name: 'negate_node' }] },
      {
        executionProvider: 'WebGpuExecutionProvider',
        provider: 'webgpu',
        nodeCount: 3,
        nodes: [
          { opType: 'Add', name: 'double_node' },
          { opType: 'Mul', name: 'square_node' },
          { opType: 'MemcpyFromHost', name: 'Memcpy' },
        ],
      },
    ]);
    expect(placementCounts(blocks)).toEqual({ wasm: 1, webgpu: 3 });
  });

  it('reads "All nodes placed" (no node list) from one stderr string', () => {
    expect(parsePlacementLog(nodeStderr)).toEqual([{ executionProvider: 'CPUExecutionProvider', provider: 'wasm', nodeCount: 3, nodes: undefined }]);
  });

  it('reads comma-separated node lists and ends a block at an unrelated line', () => {
    const lines = [
      '[V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 2',
      '[V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   MatMul (layer.0/q_proj), Softmax (layer.0/softmax)',
      'some application message',
      '[V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Add (stray)',
    ];
    expect(parsePlacementLog(lines)[0]?.nodes).toEqual([
      { opType: 'MatMul', name: 'layer.0/q_proj' },
      { opType: 'Softmax', name: 'layer.0/softmax' },
    ]);
  });

  it('returns no blocks for a log without placement (verbose logging off)', () => {
    expect(parsePlacementLog(['[W:onnxruntime:, x.cc:1 F] something else', ''])).toEqual([]);
  });
});

describe('webProviderName', () => {
  it("names onnxruntime-web's CPU provider 'wasm' and keeps unknown names", () => {
    expect(webProviderName('CPUExecutionProvider')).toBe('wasm');
    expect(webProviderName('WebGpuExecutionProvider')).toBe('webgpu');
    expect(webProviderName('JsExecutionProvider')).toBe('webgpu');
    expect(webProviderName('SomethingElse')).toBe('SomethingElse');
  });
});
