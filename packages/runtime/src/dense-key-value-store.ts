import { QaqError } from '@qaq/errors';
import type { KeyValueMemory, KeyValueStore } from './key-value-store.js';

export interface DenseKeyValueStoreOptions {
  readonly layerCount: number;
  readonly keyValueHeadCount: number;
  readonly headDim: number;
  /**
   * Per layer, how many past tokens a step can see (sliding-window layers: window − 1), or null for all of them.
   * Older tokens are dropped, so memory stays bounded on those layers.
   */
  readonly retainedTokens: readonly (number | null)[];
  /** Initial capacity in tokens per layer (default 256); storage doubles when full, never grows per token. */
  readonly initialCapacity?: number;
}

interface LayerStorage {
  keys: Float32Array;
  values: Float32Array;
  /** First visible token (index into storage, in tokens). */
  start: number;
  /** One past the last committed token. */
  end: number;
}

/** The full-precision (fp32) cache: token-major Float32Arrays per layer, views fed to the graph without copying. */
export class DenseKeyValueStore implements KeyValueStore {
  readonly layerCount: number;
  readonly #tokenSize: number;
  readonly #retained: readonly (number | null)[];
  readonly #layers: LayerStorage[];

  constructor(options: DenseKeyValueStoreOptions) {
    const { layerCount, keyValueHeadCount, headDim } = options;
    for (const [name, value] of Object.entries({ layerCount, keyValueHeadCount, headDim })) {
      if (!Number.isInteger(value) || value < 1) {
        throw new QaqError('invalid-cache-config', `${name} must be a positive integer`, { details: { [name]: value } });
      }
    }
    if (options.retainedTokens.length !== layerCount) {
      throw new QaqError('invalid-cache-config', 'retainedTokens needs one entry per layer', {
        details: { layerCount, retainedTokens: options.retainedTokens.length },
      });
    }
    this.layerCount = layerCount;
    this.#tokenSize = keyValueHeadCount * headDim;
    this.#retained = options.retainedTokens;
    const capacity = Math.max(1, options.initialCapacity ?? 256);
    this.#layers = Array.from({ length: layerCount }, () => ({
      keys: new Float32Array(capacity * this.#tokenSize),
      values: new Float32Array(capacity * this.#tokenSize),
      start: 0,
      end: 0,
    }));
  }

  #layer(layer: number): LayerStorage {
    const storage = this.#layers[layer];
    if (storage === undefined) {
      throw new QaqError('invalid-layer', `layer ${layer} is outside 0..${this.layerCount - 1}`, { details: { layer } });
    }
    return storage;
  }

  pastLength(layer: number): number {
    const storage = this.#layer(layer);
    return storage.end - storage.start;
  }

  pastView(layer: number, kind: 'key' | 'value'): Float32Array {
    const storage = this.#layer(layer);
    const buffer = kind === 'key' ? storage.keys : storage.values;
    return buffer.subarray(storage.start * this.#tokenSize, storage.end * this.#tokenSize);
  }

  reserve(layer: number, tokenCount: number, kind: 'key' | 'value'): Float32Array {
    const storage = this.#layer(layer);
    this.#ensureRoom(storage, tokenCount);
    const buffer = kind === 'key' ? storage.keys : storage.values;
    return buffer.subarray(storage.end * this.#tokenSize, (storage.end + tokenCount) * this.#tokenSize);
  }

  commit(tokenCount: number): void {
    this.#layers.forEach((storage, layer) => {
      storage.end += tokenCount;
      const retained = this.#retained[layer];
      if (retained !== null && retained !== undefined && storage.end - storage.start > retained) {
        storage.start = storage.end - retained;
      }
    });
  }

  reset(): void {
    for (const storage of this.#layers) {
      storage.start = 0;
      storage.end = 0;
    }
  }

  memory(): KeyValueMemory {
    let elements = 0;
    let allocated = 0;
    for (const storage of this.#layers) {
      elements += 2 * (storage.end - storage.start) * this.#tokenSize;
      allocated += storage.keys.byteLength + storage.values.byteLength;
    }
    const bytes = elements * Float32Array.BYTES_PER_ELEMENT;
    return {
      bytes,
      slackBytes: allocated - bytes,
      fp16Bytes: elements * 2,
      elements,
      bitsPerElement: elements === 0 ? 0 : (8 * bytes) / elements,
    };
  }

  /** Makes room for `tokenCount` more tokens: first by moving the visible window to the front, then by doubling. */
  #ensureRoom(storage: LayerStorage, tokenCount: number): void {
    const capacity = storage.keys.length / this.#tokenSize;
    if (storage.end + tokenCount <= capacity) return;
    const live = storage.end - storage.start;
    if (storage.start > 0 && live + tokenCount <= capacity) {
      storage.keys.copyWithin(0, storage.start * this.#tokenSize, storage.end * this.#tokenSize);
      storage.values.copyWithin(0, storage.start * this.#tokenSize, storage.end * this.#tokenSize);
    } else {
      let next = capacity * 2;
      while (next < live + tokenCount) next *= 2;
      const keys = new Float32Array(next * this.#tokenSize);
      const values = new Float32Array(next * this.#tokenSize);
      keys.set(storage.keys.subarray(storage.start * this.#tokenSize, storage.end * this.#tokenSize));
      values.set(storage.values.subarray(storage.start * this.#tokenSize, storage.end * this.#tokenSize));
      storage.keys = keys;
      storage.values = values;
    }
    storage.start = 0;
    storage.end = live;
  }
}
