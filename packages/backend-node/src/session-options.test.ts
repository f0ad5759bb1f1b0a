import { fixtureModel } from '@qaq/backend-conformance';
import { describe, expect, it } from 'vitest';
import { createNodeBackend } from './index.js';
import { toOrtSessionOptions, validateSessionOptions, type NodeSessionOptions } from './session-options.js';

describe('NodeSessionOptions', () => {
  it('maps onnxruntime-node settings, with config entries as flat full keys', () => {
    const options: NodeSessionOptions = {
      intraOpThreads: 2,
      enableCpuMemArena: false,
      enableMemoryPattern: false,
      allowSpinning: false,
      configEntries: { 'session.dynamic_block_base': '4' },
    };
    expect(toOrtSessionOptions(options, ['cpu'])).toEqual({
      executionProviders: ['cpu'],
      intraOpNumThreads: 2,
      enableCpuMemArena: false,
      enableMemPattern: false,
      extra: { 'session.intra_op.allow_spinning': '0', 'session.dynamic_block_base': '4' },
    });
    expect(toOrtSessionOptions({ allowSpinning: true }, ['cpu']).extra).toEqual({ 'session.intra_op.allow_spinning': '1' });
    expect(toOrtSessionOptions({ allowSpinning: true, stopSpinningAfterRun: true }, ['cpu']).extra).toEqual({
      'session.intra_op.allow_spinning': '1',
      'session.force_spinning_stop': '1',
    });
  });

  it("keeps onnxruntime's defaults except spinning, which is off unless asked for", () => {
    expect(toOrtSessionOptions({}, ['cpu'])).toEqual({ executionProviders: ['cpu'], extra: { 'session.intra_op.allow_spinning': '0' } });
  });

  it("maps the specification's cpuMemoryArena hint, which the Node-specific enableCpuMemArena overrides", () => {
    expect(toOrtSessionOptions({ cpuMemoryArena: false }, ['cpu']).enableCpuMemArena).toBe(false);
    expect(toOrtSessionOptions({ cpuMemoryArena: false, enableCpuMemArena: true }, ['cpu']).enableCpuMemArena).toBe(true);
    expect(() => validateSessionOptions({ cpuMemoryArena: 'off' } as unknown as NodeSessionOptions)).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
  });

  it('lets explicit config entries win over the named fields', () => {
    const ort = toOrtSessionOptions({ allowSpinning: false, configEntries: { 'session.intra_op.allow_spinning': '1' } }, ['cpu']);
    expect(ort.extra).toEqual({ 'session.intra_op.allow_spinning': '1' });
  });

  it('rejects malformed values before anything loads', () => {
    const bad = [
      { enableCpuMemArena: 'no' },
      { allowSpinning: 1 },
      { stopSpinningAfterRun: 'yes' },
      { profileFilePrefix: '' },
      { configEntries: { 'session.dynamic_block_base': 4 } },
    ] as unknown as NodeSessionOptions[];
    for (const options of bad) expect(() => validateSessionOptions(options)).toThrow(expect.objectContaining({ code: 'invalid-option' }));
  });

  it('reaches onnxruntime: a config value it cannot parse fails the session', async () => {
    const backend = createNodeBackend();
    await expect(
      backend.createSession(fixtureModel('add'), { configEntries: { 'session.dynamic_block_base': 'not-a-number' } }),
    ).rejects.toMatchObject({ code: 'invalid-model' });
    for (const options of [
      { allowSpinning: false, enableCpuMemArena: false, intraOpThreads: 2 },
      { allowSpinning: true, stopSpinningAfterRun: true, intraOpThreads: 2 },
    ]) {
      const session = await backend.createSession(fixtureModel('add'), options);
      const a = backend.createTensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]);
      const outputs = await session.run({ a, b: a });
      expect(Array.from((await outputs['sum']!.read()) as Float32Array)).toEqual([2, 4, 6, 8]);
      await session.dispose();
    }
  });
});
