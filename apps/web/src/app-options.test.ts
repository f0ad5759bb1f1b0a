import { describe, expect, it } from 'vitest';
import { defaultKvMethod, defaultMaxTokens, defaultPrompt, parseAppOptions } from './app-options.js';
import { defaultModelUrl, modelNameFromUrl } from './default-model.js';

describe('parseAppOptions', () => {
  it('uses the defaults for an empty query string', () => {
    expect(parseAppOptions('')).toEqual({
      modelUrl: defaultModelUrl,
      autorun: false,
      kvMethod: defaultKvMethod,
      provider: 'auto',
      weights: 'nbits',
      maxTokens: defaultMaxTokens,
      prompt: defaultPrompt,
      storeModel: true,
    });
  });

  it('reads every parameter the end-to-end test sets', () => {
    const options = parseAppOptions('?model=/models/a.gguf&autorun=1&kv=uniform:4&provider=wasm&weights=fp32&maxTokens=12&prompt=Hi%20there&store=0');
    expect(options).toEqual({
      modelUrl: '/models/a.gguf',
      autorun: true,
      kvMethod: 'uniform:4',
      provider: 'wasm',
      weights: 'fp32',
      maxTokens: 12,
      prompt: 'Hi there',
      storeModel: false,
    });
  });

  it('falls back on malformed values', () => {
    const options = parseAppOptions('?provider=cuda&maxTokens=-3&kv=%20&autorun=no');
    expect(options.provider).toBe('auto');
    expect(options.maxTokens).toBe(defaultMaxTokens);
    expect(options.kvMethod).toBe(defaultKvMethod);
    expect(options.autorun).toBe(false);
  });
});

describe('modelNameFromUrl', () => {
  it('takes the decoded last path segment, without query or fragment', () => {
    expect(modelNameFromUrl('https://host/a/b/My%20Model.gguf?download=1#x')).toBe('My Model.gguf');
    expect(modelNameFromUrl('/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf')).toBe('SmolLM2-135M-Instruct.Q4_1.gguf');
    expect(modelNameFromUrl('https://host/')).toBe('host');
  });
});
