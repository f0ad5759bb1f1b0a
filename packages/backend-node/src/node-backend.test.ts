import { fixtureModel } from '@qaq/backend-conformance';
import type { CpuTensor } from '@qaq/backend-spec';
import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { createNodeBackend } from './index.js';
import { probeCuda } from './probe.js';

const backend = createNodeBackend();
const cudaProbe = await probeCuda();

describe('createNodeBackend', () => {
  it('probes cpu, cuda and webgpu', async () => {
    const probes = await backend.probe();
    expect(probes.map((probe) => probe.name)).toEqual(['cpu', 'cuda', 'webgpu']);
  });

  describe.runIf(!cudaProbe.available)('without CUDA here', () => {
    it("falls back along the preference list and says why ('cuda', 'cpu' runs on cpu)", async () => {
      const session = await backend.createSession(fixtureModel('add'), { executionProviders: ['cuda', 'cpu'] });
      expect(session.provider).toBe('cpu');
      expect(session.skippedProviders.map((probe) => probe.name)).toEqual(['cuda']);
      await session.dispose();
    });

    it("refuses ['cuda'] alone with provider-unavailable naming what is missing", async () => {
      const error: unknown = await backend.createSession(fixtureModel('add'), { executionProviders: ['cuda'] }).catch((caught: unknown) => caught);
      expect(isQaqError(error, 'provider-unavailable')).toBe(true);
      if (!isQaqError(error) || cudaProbe.available) return;
      for (const library of cudaProbe.missing) expect(error.message).toContain(library);
      expect(error.details['requested']).toEqual(['cuda']);
    });
  });

  it('rejects a provider onnxruntime-node does not have', async () => {
    await expect(backend.createSession(fixtureModel('add'), { executionProviders: ['wasm'] })).rejects.toMatchObject({
      code: 'provider-unavailable',
    });
  });

  it('rejects malformed options before loading', async () => {
    await expect(backend.createSession(fixtureModel('add'), { intraOpThreads: -1 })).rejects.toMatchObject({ code: 'invalid-option' });
    await expect(backend.createSession(fixtureModel('add'), { executionProviders: [] })).rejects.toMatchObject({ code: 'invalid-option' });
  });

  it('binds free-dimension overrides, so a feed of another size is an invalid feed', async () => {
    const session = await backend.createSession(fixtureModel('add'), { freeDimensionOverrides: { batch: 2 } });
    const tensor = (batch: number) => backend.createTensor('float32', new Float32Array(batch * 4), [batch, 4]);
    await expect(session.run({ a: tensor(3), b: tensor(3) })).rejects.toMatchObject({ code: 'invalid-feed' });
    const outputs = await session.run({ a: tensor(2), b: tensor(2) });
    expect(outputs['sum']?.dimensions).toEqual([2, 4]);
    await session.dispose();
  });

  it('accepts CPU tensors made by another backend, without copying them', async () => {
    const session = await backend.createSession(fixtureModel('add'));
    const data = new Float32Array([1, 2, 3, 4]);
    const foreign: CpuTensor<'float32'> = {
      dataType: 'float32',
      data,
      dimensions: [1, 4],
      size: 4,
      location: 'cpu',
      disposed: false,
      read: async () => data,
      dispose: () => undefined,
    };
    const outputs = await session.run({ a: foreign, b: foreign });
    expect(Array.from(((await outputs['sum']?.read()) ?? []) as Float32Array)).toEqual([2, 4, 6, 8]);
    await session.dispose();
  });

  it("returns CPU tensors when gpu-buffer outputs are asked of the CPU provider (onnxruntime's behaviour)", async () => {
    const session = await backend.createSession(fixtureModel('add'), { preferredOutputLocation: 'gpu-buffer' });
    const a = backend.createTensor('float32', new Float32Array(4).fill(1), [1, 4]);
    const outputs = await session.run({ a, b: a });
    expect(outputs['sum']?.location).toBe('cpu');
    await session.dispose();
  });

  it('keeps the returned output independent of the feeds and of later runs', async () => {
    const session = await backend.createSession(fixtureModel('add'));
    const data = new Float32Array([1, 1, 1, 1]);
    const a = backend.createTensor('float32', data, [1, 4]);
    const first = await session.run({ a, b: a });
    data.fill(5);
    await session.run({ a, b: a });
    expect(Array.from(((await first['sum']?.read()) ?? []) as Float32Array)).toEqual([2, 2, 2, 2]);
    await session.dispose();
  });
});
