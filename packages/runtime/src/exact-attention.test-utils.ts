import { referenceAttentionMulti, type AttentionSource } from '@qaq/kv-cache';
import type { KeyValueMemory } from './key-value-store.js';
import type { LayerAttention, LayerAttentionShape } from './layer-attention.js';

/**
 * Test-only LayerAttention: fp32 keys and values kept as they come, float64 reference attention, the same
 * sliding-window eviction as CompactCacheAttention (window − 1 tokens kept between steps). With it the segmented
 * path must reproduce the dense graph up to fp32 accumulation order, which isolates the chunking mechanics from
 * any quantization.
 */
export class ExactLayerAttention implements LayerAttention, AttentionSource {
  readonly name = 'exact-fp32';
  readonly kvHeads: number;
  readonly headDim: number;
  readonly #shape: LayerAttentionShape;
  readonly #keys: number[][];
  readonly #values: number[][];

  constructor(shape: LayerAttentionShape) {
    this.#shape = shape;
    this.kvHeads = shape.keyValueHeadCount;
    this.headDim = shape.headDim;
    this.#keys = Array.from({ length: shape.layerCount }, () => []);
    this.#values = Array.from({ length: shape.layerCount }, () => []);
  }

  tokenCount(layer: number): number {
    return (this.#keys[layer] as number[]).length / (this.kvHeads * this.headDim);
  }

  readLayer(layer: number, keysOut: Float32Array, valuesOut: Float32Array): void {
    keysOut.set(this.#keys[layer] as number[]);
    valuesOut.set(this.#values[layer] as number[]);
  }

  attend(layer: number, query: Float32Array, key: Float32Array, value: Float32Array, tokenCount: number, output: Float32Array): void {
    const keys = this.#keys[layer] as number[];
    const values = this.#values[layer] as number[];
    keys.push(...key);
    values.push(...value);
    const window = this.#shape.slidingWindows[layer] ?? null;
    const options = { queryHeads: this.#shape.queryHeadCount, scoreScale: this.#shape.scoreScale };
    referenceAttentionMulti(this, layer, query, tokenCount, window === null ? options : { ...options, slidingWindow: window }, output, null);
    const tokenLength = this.kvHeads * this.headDim;
    if (window !== null && this.tokenCount(layer) > window - 1) {
      const evicted = this.tokenCount(layer) - (window - 1);
      keys.splice(0, evicted * tokenLength);
      values.splice(0, evicted * tokenLength);
    }
  }

  reset(): void {
    for (const list of [...this.#keys, ...this.#values]) list.length = 0;
  }

  memory(): KeyValueMemory {
    let elements = 0;
    for (let layer = 0; layer < this.#shape.layerCount; layer++) elements += 2 * this.tokenCount(layer) * this.kvHeads * this.headDim;
    return { bytes: elements * 4, slackBytes: 0, fp16Bytes: elements * 2, elements, bitsPerElement: elements === 0 ? 0 : 32 };
  }

  dispose(): void {}
}
