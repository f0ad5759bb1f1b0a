import { describe, expect, it } from 'vitest';
import { isQaqError } from '@qaq/errors';
import { assertPlacedOn } from './gpu-placement.js';
import type { PlacementBlock } from './placement-log.js';

const onGpu: PlacementBlock = { executionProvider: 'WebGpuExecutionProvider', provider: 'webgpu', nodeCount: 4, nodes: undefined };

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('assertPlacedOn', () => {
  it('returns the counts when every node ran on the provider', () => {
    expect(assertPlacedOn([onGpu])).toEqual({ webgpu: 4 });
  });

  it("throws 'node-off-gpu' naming every node that landed elsewhere", () => {
    const cpu: PlacementBlock = {
      executionProvider: 'CPUExecutionProvider',
      provider: 'wasm',
      nodeCount: 2,
      nodes: [
        { opType: 'BitShift', name: 'unpack/shift' },
        { opType: 'BitwiseAnd', name: 'unpack/mask' },
      ],
    };
    const error = thrownBy(() => assertPlacedOn([cpu, onGpu], 'webgpu'));
    expect(isQaqError(error, 'node-off-gpu')).toBe(true);
    expect((error as Error).message).toContain('BitShift (unpack/shift) on CPUExecutionProvider');
    expect((error as { details: Record<string, unknown> }).details).toEqual({
      expected: 'webgpu',
      counts: { wasm: 2, webgpu: 4 },
      misplaced: [
        { opType: 'BitShift', name: 'unpack/shift', executionProvider: 'CPUExecutionProvider' },
        { opType: 'BitwiseAnd', name: 'unpack/mask', executionProvider: 'CPUExecutionProvider' },
      ],
    });
  });

  it('treats "All nodes placed" on another provider as every node misplaced', () => {
    const allCpu: PlacementBlock = { executionProvider: 'CPUExecutionProvider', provider: 'wasm', nodeCount: 3, nodes: undefined };
    const error = thrownBy(() => assertPlacedOn([allCpu]));
    expect(isQaqError(error, 'node-off-gpu')).toBe(true);
    expect((error as { details: { misplaced: unknown[] } }).details.misplaced).toEqual([{ opType: '*', name: 'all 3 nodes', executionProvider: 'CPUExecutionProvider' }]);
  });

  it("throws 'placement-log-missing' when there is no placement at all: no evidence is not a pass", () => {
    expect(isQaqError(thrownBy(() => assertPlacedOn([])), 'placement-log-missing')).toBe(true);
  });

  it('checks against any provider name', () => {
    const wasm: PlacementBlock = { executionProvider: 'CPUExecutionProvider', provider: 'wasm', nodeCount: 1, nodes: undefined };
    expect(assertPlacedOn([wasm], 'wasm')).toEqual({ wasm: 1 });
  });
});
