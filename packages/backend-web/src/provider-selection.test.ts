import type { ExecutionProviderProbe } from '@qaq/backend-spec';
import { describe, expect, it } from 'vitest';
import { providerUnavailableError, selectProviders } from './provider-selection.js';
import { toWebProvider } from './web-providers.js';

const noGpu: ExecutionProviderProbe = { name: 'webgpu', available: false, reason: 'missing-adapter', missing: ['GPUAdapter'], details: 'no adapter' };
const wasm: ExecutionProviderProbe = { name: 'wasm', available: true };

describe('selectProviders', () => {
  it('keeps the order, folds cpu into wasm, and probes only what was asked', async () => {
    const asked: string[] = [];
    const probe = async (name: 'webgpu' | 'wasm') => {
      asked.push(name);
      return name === 'webgpu' ? noGpu : wasm;
    };
    expect(await selectProviders(['cpu'], probe)).toEqual({ usable: ['wasm'], unavailable: [] });
    expect(asked).toEqual(['wasm']);
    expect(await selectProviders(['webgpu', 'wasm', 'cpu'], probe)).toEqual({ usable: ['wasm'], unavailable: [noGpu] });
  });

  it('reports unknown providers as not-supported', async () => {
    const { usable, unavailable } = await selectProviders(['cuda'], async () => wasm);
    expect(usable).toEqual([]);
    expect(unavailable).toEqual([expect.objectContaining({ name: 'cuda', available: false, reason: 'not-supported' })]);
  });
});

describe('providerUnavailableError', () => {
  it('names what each provider is missing', () => {
    const error = providerUnavailableError(['webgpu'], [noGpu]);
    expect(error.code).toBe('provider-unavailable');
    expect(error.message).toContain('webgpu: missing-adapter (missing GPUAdapter)');
    expect(error.details).toEqual({ requested: ['webgpu'], probes: [noGpu] });
  });
});

describe('toWebProvider', () => {
  it('knows webgpu, wasm and the cpu alias', () => {
    expect(toWebProvider('webgpu')).toBe('webgpu');
    expect(toWebProvider('wasm')).toBe('wasm');
    expect(toWebProvider('cpu')).toBe('wasm');
    expect(toWebProvider('cuda')).toBeUndefined();
  });
});
