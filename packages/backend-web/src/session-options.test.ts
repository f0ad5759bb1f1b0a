import { describe, expect, it } from 'vitest';
import { isQaqError } from '@qaq/errors';
import { sessionLogSeverity, toOrtSessionOptions, validateSessionOptions, type WebSessionOptions } from './session-options.js';

function codeOf(options: unknown): string | undefined {
  try {
    validateSessionOptions(options as WebSessionOptions);
  } catch (error) {
    return isQaqError(error) ? error.code : 'not-a-qaq-error';
  }
  return undefined;
}

describe('validateSessionOptions', () => {
  it('accepts the spec options and the web ones', () => {
    expect(
      codeOf({
        executionProviders: ['webgpu', 'wasm'],
        intraOpThreads: 1,
        graphOptimizationLevel: 'all',
        logVerbosity: 'verbose',
        preferredOutputLocation: { 'key.0': 'gpu-buffer', logits: 'cpu' },
        freeDimensionOverrides: { batch: 1 },
        cpuMemoryArena: false,
        configEntries: { 'session.use_ort_model_bytes_directly': '1' },
        forceCpuNodeNames: ['negate_node'],
        requirePlacement: 'webgpu',
      }),
    ).toBeUndefined();
  });

  it.each([
    [{ executionProviders: [] }],
    [{ intraOpThreads: -1 }],
    [{ graphOptimizationLevel: 'max' }],
    [{ logVerbosity: 'loud' }],
    [{ preferredOutputLocation: 'texture' }],
    [{ freeDimensionOverrides: { batch: 1.5 } }],
    [{ cpuMemoryArena: 'yes' }],
    [{ configEntries: { key: 1 } }],
    [{ forceCpuNodeNames: [''] }],
    [{ requirePlacement: 'cpu' }],
  ])("rejects %j with 'invalid-option'", (options) => {
    expect(codeOf(options)).toBe('invalid-option');
  });
});

describe('toOrtSessionOptions', () => {
  it('lists exactly the chosen provider, with the backend device on WebGPU', () => {
    const device = { label: 'test device' } as never;
    const options = toOrtSessionOptions({ forceCpuNodeNames: ['a'] }, 'webgpu', undefined, device);
    expect(options.executionProviders).toEqual([{ name: 'webgpu', device, forceCpuNodeNames: ['a'] }]);
    expect(toOrtSessionOptions({}, 'wasm', undefined).executionProviders).toEqual(['wasm']);
  });

  it("keeps 'gpu-buffer' locations on WebGPU only (onnxruntime-web has no GPU memory on wasm)", () => {
    const options: WebSessionOptions = { preferredOutputLocation: 'gpu-buffer' };
    expect(toOrtSessionOptions(options, 'webgpu', undefined).preferredOutputLocation).toBe('gpu-buffer');
    expect(toOrtSessionOptions(options, 'wasm', undefined).preferredOutputLocation).toBeUndefined();
  });

  it('maps the rest onto onnxruntime-web names', () => {
    const options = toOrtSessionOptions(
      { intraOpThreads: 2, graphOptimizationLevel: 'basic', freeDimensionOverrides: { batch: 1 }, cpuMemoryArena: false, configEntries: { a: 'b' } },
      'wasm',
      0,
    );
    expect(options).toEqual({
      executionProviders: ['wasm'],
      intraOpNumThreads: 2,
      enableCpuMemArena: false,
      graphOptimizationLevel: 'basic',
      logSeverityLevel: 0,
      logVerbosityLevel: 0,
      freeDimensionOverrides: { batch: 1 },
      extra: { a: 'b' },
    });
  });

  it("takes the session's log verbosity over the backend default", () => {
    expect(sessionLogSeverity({ logVerbosity: 'error' }, 0)).toBe(3);
    expect(sessionLogSeverity({}, 1)).toBe(1);
    expect(sessionLogSeverity({}, undefined)).toBeUndefined();
  });
});
