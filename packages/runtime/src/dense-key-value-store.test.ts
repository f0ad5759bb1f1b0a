import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { DenseKeyValueStore } from './dense-key-value-store.js';

const tokenSize = 2 * 3; // kvHeads × headDim

/** Writes `count` tokens whose every element is the token's absolute index, then commits them. */
function appendTokens(store: DenseKeyValueStore, first: number, count: number): void {
  for (let layer = 0; layer < store.layerCount; layer++) {
    for (const kind of ['key', 'value'] as const) {
      const target = store.reserve(layer, count, kind);
      expect(target.length).toBe(count * tokenSize);
      for (let token = 0; token < count; token++) target.fill(first + token + (kind === 'value' ? 0.5 : 0), token * tokenSize, (token + 1) * tokenSize);
    }
  }
  store.commit(count);
}

function tokensOf(view: Float32Array): number[] {
  return Array.from({ length: view.length / tokenSize }, (_, token) => view[token * tokenSize] as number);
}

describe('DenseKeyValueStore', () => {
  it('keeps every token on full layers and the last window − 1 on sliding ones, across growth and compaction', () => {
    const store = new DenseKeyValueStore({ layerCount: 2, keyValueHeadCount: 2, headDim: 3, retainedTokens: [null, 4], initialCapacity: 2 });
    let next = 0;
    for (const count of [3, 1, 1, 5, 1, 1, 1, 7, 1]) {
      appendTokens(store, next, count);
      next += count;
      const all = Array.from({ length: next }, (_, token) => token);
      expect(tokensOf(store.pastView(0, 'key'))).toEqual(all);
      expect(tokensOf(store.pastView(0, 'value'))).toEqual(all.map((token) => token + 0.5));
      expect(tokensOf(store.pastView(1, 'key'))).toEqual(all.slice(-4));
      expect(store.pastLength(1)).toBe(Math.min(4, next));
    }
    const memory = store.memory();
    expect(memory.elements).toBe(2 * (next + 4) * tokenSize);
    expect(memory.bytes).toBe(memory.elements * 4);
    expect(memory.fp16Bytes).toBe(memory.elements * 2);
    expect(memory.bitsPerElement).toBe(32);
    expect(memory.slackBytes).toBeGreaterThanOrEqual(0);
  });

  it('reset empties the cache but keeps its storage', () => {
    const store = new DenseKeyValueStore({ layerCount: 1, keyValueHeadCount: 2, headDim: 3, retainedTokens: [null] });
    appendTokens(store, 0, 10);
    const held = store.memory().bytes + store.memory().slackBytes;
    store.reset();
    expect(store.pastLength(0)).toBe(0);
    expect(store.memory().bytes).toBe(0);
    expect(store.memory().slackBytes).toBe(held);
  });

  it('rejects impossible configurations and layers with typed errors', () => {
    const codeOf = (action: () => unknown): string | undefined => {
      try {
        action();
      } catch (error) {
        return isQaqError(error) ? error.code : 'untyped';
      }
      return undefined;
    };
    expect(codeOf(() => new DenseKeyValueStore({ layerCount: 0, keyValueHeadCount: 1, headDim: 1, retainedTokens: [] }))).toBe('invalid-cache-config');
    expect(codeOf(() => new DenseKeyValueStore({ layerCount: 2, keyValueHeadCount: 1, headDim: 1, retainedTokens: [null] }))).toBe('invalid-cache-config');
    const store = new DenseKeyValueStore({ layerCount: 1, keyValueHeadCount: 1, headDim: 1, retainedTokens: [null] });
    expect(codeOf(() => store.pastView(3, 'key'))).toBe('invalid-layer');
  });
});
