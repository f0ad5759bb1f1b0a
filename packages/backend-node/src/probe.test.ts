import { describe, expect, it } from 'vitest';
import { cudaDriverLibrary, cudaProviderLibraries, cudaRuntimeLibraries, probeCpu, probeCuda, probeWebGpu } from './probe.js';
import { checkSharedLibrary, missingProviderLibraries } from './shared-library.js';

describe('checkSharedLibrary', () => {
  it('tells a loadable library from a missing one', () => {
    expect(checkSharedLibrary('libc.so.6')).toEqual({ library: 'libc.so.6', loadable: true });
    const missing = checkSharedLibrary('libqaq-does-not-exist.so.1');
    expect(missing.loadable).toBe(false);
    expect(missing.error).toMatch(/cannot open shared object file/);
  });
});

describe('probe', () => {
  it('finds the bundled CPU provider', async () => {
    expect(await probeCpu()).toEqual({ name: 'cpu', available: true });
  });

  it('names exactly the CUDA pieces this machine lacks', async () => {
    const probe = await probeCuda();
    const expectedMissing = [
      ...missingProviderLibraries(cudaProviderLibraries),
      ...[cudaDriverLibrary, ...cudaRuntimeLibraries].filter((library) => !checkSharedLibrary(library).loadable),
    ];
    if (probe.available) {
      expect(expectedMissing).toEqual([]);
      return;
    }
    expect(probe.missing).toEqual(expectedMissing);
    if (expectedMissing.length > 0) expect(['missing-library', 'missing-driver']).toContain(probe.reason);
    for (const library of expectedMissing) expect(probe.details).toContain(library);
  });

  it('reports a missing WebGPU adapter with onnxruntime\'s own words', async () => {
    const probe = await probeWebGpu();
    if (probe.available) return;
    expect(['missing-driver', 'missing-adapter']).toContain(probe.reason);
    expect(probe.details).toMatch(/Failed to get a WebGPU adapter/);
    if (!checkSharedLibrary('libvulkan.so.1').loadable) {
      expect(probe.reason).toBe('missing-driver');
      expect(probe.missing).toEqual(['libvulkan.so.1']);
    }
  });
});
