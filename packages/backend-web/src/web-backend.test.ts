// The backend in Node: no navigator.gpu, so WebGPU is reported unavailable (for real, by the probe) and the
// WebAssembly provider runs. The browser suite (`pnpm test:browser`) covers WebGPU.
import { describe, expect, it } from 'vitest';
import { fixtureModel } from '@qaq/backend-conformance';
import { createWebBackend } from './index.js';

const backend = await createWebBackend({ numThreads: 1 });

describe('createWebBackend in Node', () => {
  it('probes webgpu as not supported here and chooses wasm, saying why', () => {
    expect(backend.provider).toBe('wasm');
    expect(backend.probes).toEqual([
      expect.objectContaining({ name: 'webgpu', available: false, reason: 'not-supported', missing: ['navigator.gpu'] }),
      expect.objectContaining({ name: 'wasm', available: true }),
    ]);
    expect(backend.adapter).toBeUndefined();
    expect(backend.gpuDevice).toBeUndefined();
    expect(backend.wasm?.simd).toBe(true);
    expect(backend.capabilities.supportsGpuBufferOutputs).toBe(false);
  });

  it('runs sessions asking for webgpu first on wasm and lists webgpu as skipped', async () => {
    const session = await backend.createSession(fixtureModel('add'), { executionProviders: ['webgpu', 'wasm'] });
    expect(session.provider).toBe('wasm');
    expect(session.skippedProviders.map((probe) => probe.name)).toEqual(['webgpu']);
    await session.dispose();
    const alias = await backend.createSession(fixtureModel('add'), { executionProviders: ['cpu'] });
    expect(alias.provider).toBe('wasm');
    await alias.dispose();
  });

  it("answers gpu-buffer requests on wasm with CPU tensors, and GPU allocation with 'provider-unavailable'", async () => {
    const session = await backend.createSession(fixtureModel('add'), { preferredOutputLocation: 'gpu-buffer' });
    const a = backend.createTensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]);
    const sum = (await session.run({ a, b: a }))['sum'];
    expect(sum?.location).toBe('cpu');
    expect(Array.from((await sum!.read()) as Float32Array)).toEqual([2, 4, 6, 8]);
    await session.dispose();
    await expect(backend.createGpuTensor('float32', [4])).rejects.toMatchObject({ code: 'provider-unavailable' });
  });

  it("throws 'provider-unavailable' when only webgpu is asked for", async () => {
    await expect(createWebBackend({ providers: ['webgpu'] })).rejects.toMatchObject({ code: 'provider-unavailable', message: expect.stringContaining('navigator.gpu') });
    await expect(backend.createSession(fixtureModel('add'), { executionProviders: ['webgpu'] })).rejects.toMatchObject({ code: 'provider-unavailable' });
  });

  it("rejects bad options with 'invalid-option', and WebAssembly settings that differ from the running ones", async () => {
    await expect(createWebBackend({ providers: [] })).rejects.toMatchObject({ code: 'invalid-option' });
    await expect(createWebBackend({ providers: ['cuda' as never] })).rejects.toMatchObject({ code: 'invalid-option' });
    await expect(createWebBackend({ numThreads: 0 })).rejects.toMatchObject({ code: 'invalid-option' });
    await expect(createWebBackend({ logSeverityLevel: 7 as never })).rejects.toMatchObject({ code: 'invalid-option' });
    await expect(createWebBackend({ wasmPaths: '' })).rejects.toMatchObject({ code: 'invalid-option' });
    await expect(createWebBackend({ providers: ['wasm'], numThreads: 2 })).rejects.toMatchObject({ code: 'invalid-option', details: { option: 'numThreads', value: 2, active: 1 } });
    const same = await createWebBackend({ providers: ['wasm'], numThreads: 1 });
    expect(same.provider).toBe('wasm');
  });

  it('hands float16 out as raw bits in a Uint16Array', async () => {
    const session = await backend.createSession(fixtureModel('roundTrip'));
    const halves = new Uint16Array([0x3c00, 0x8000, 0x0001, 0x7bff, 0x7c00, 0x3555]);
    const outputs = await session.run({
      bytes_in: backend.createTensor('uint8', new Uint8Array(6), [6]),
      integers_in: backend.createTensor('int32', new Int32Array(6), [6]),
      longs_in: backend.createTensor('int64', new BigInt64Array(6), [6]),
      halves_in: backend.createTensor('float16', halves, [6]),
    });
    const read = await outputs['halves_out']!.read();
    expect(read).toBeInstanceOf(Uint16Array);
    expect(Array.from(read as Uint16Array)).toEqual(Array.from(halves));
    await session.dispose();
  });
});

describe('in-page placement capture in Node', () => {
  it("is refused once onnxruntime-web has started, and requirePlacement needs it ('invalid-option')", async () => {
    await expect(createWebBackend({ providers: ['wasm'], capturePlacementLog: true })).rejects.toMatchObject({ code: 'invalid-option', details: { option: 'capturePlacementLog' } });
    await expect(backend.createSession(fixtureModel('add'), { requirePlacement: 'wasm' })).rejects.toMatchObject({ code: 'invalid-option', details: { option: 'requirePlacement' } });
  });
});
