import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureModel } from '@qaq/backend-conformance';
import { describe, expect, it } from 'vitest';
import { createNodeBackend } from './index.js';
import { readOrtProfile, summarizeOrtProfile } from './ort-profile.js';

const event = (cat: string, name: string, ts: number, dur: number, opName?: string): object => ({
  cat,
  name,
  ts,
  dur,
  ...(opName === undefined ? {} : { args: { op_name: opName } }),
});

describe('summarizeOrtProfile', () => {
  const trace = JSON.stringify([
    event('Session', 'model_run', 0, 100),
    event('Node', 'a_kernel_time', 10, 40, 'MatMul'),
    event('Node', 'a_fence_before', 10, 1, 'MatMul'),
    event('Session', 'model_run', 200, 50),
    event('Node', 'a_kernel_time', 210, 20, 'MatMul'),
    event('Node', 'b_kernel_time', 230, 25, 'Add'),
  ]);

  it('sums kernel times per operator type, most expensive first, ignoring fences', () => {
    expect(summarizeOrtProfile(trace)).toEqual({
      runs: 2,
      runMicroseconds: 150,
      kernelMicroseconds: 85,
      operators: [
        { operator: 'MatMul', microseconds: 60, calls: 2 },
        { operator: 'Add', microseconds: 25, calls: 1 },
      ],
    });
  });

  it('keeps only the last runs when asked (decode steps after a prefill)', () => {
    const summary = summarizeOrtProfile(trace, 1);
    expect(summary.runs).toBe(1);
    expect(summary.runMicroseconds).toBe(50);
    expect(summary.operators).toEqual([
      { operator: 'Add', microseconds: 25, calls: 1 },
      { operator: 'MatMul', microseconds: 20, calls: 1 },
    ]);
  });

  it('refuses what is not a trace', () => {
    expect(() => summarizeOrtProfile('{}')).toThrow(expect.objectContaining({ code: 'invalid-profile' }));
  });
});

describe('NodeSession.endProfiling', () => {
  it('returns the trace onnxruntime wrote, which names the graph operators', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'qaq-profile-test-'));
    try {
      const backend = createNodeBackend();
      const session = await backend.createSession(fixtureModel('add'), { profileFilePrefix: join(folder, 'add') });
      const a = backend.createTensor('float32', new Float32Array(4).fill(1), [1, 4]);
      for (let run = 0; run < 3; run++) await session.run({ a, b: a });
      const path = await session.endProfiling();
      expect(path.startsWith(join(folder, 'add'))).toBe(true);
      const summary = await readOrtProfile(path);
      expect(summary.runs).toBe(3);
      expect(summary.operators.map((entry) => entry.operator)).toContain('Add');
      expect(summary.operators.find((entry) => entry.operator === 'Add')?.calls).toBe(3);
      await session.dispose();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('says so when the session was not profiling', async () => {
    const session = await createNodeBackend().createSession(fixtureModel('add'));
    await expect(session.endProfiling()).rejects.toMatchObject({ code: 'profiling-off' });
    await session.dispose();
  });
});
