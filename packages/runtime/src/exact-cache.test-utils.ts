import type { CenteringCache } from './key-value-centering.js';

/**
 * Test-only exact in-memory cache of two layers: what centering's and channel scaling's re-store ask for, nothing
 * quantized. Records each append's token count and widths.
 */
export class ExactCache implements CenteringCache {
  readonly keys: number[][] = [[], []];
  readonly values: number[][] = [[], []];
  readonly appendWidths: [tokens: number, keyBits: number, valueBits: number][] = [];
  readonly #tokenLength: number;

  /** `tokenLength`: kvHeads · headDim, the elements of one token's key (or value). */
  constructor(tokenLength: number) {
    this.#tokenLength = tokenLength;
  }

  get appends(): number {
    return this.appendWidths.length;
  }

  tokenCount(layer: number): number {
    return (this.keys[layer] as number[]).length / this.#tokenLength;
  }

  readLayer(layer: number, keysOut: Float32Array, valuesOut: Float32Array): void {
    keysOut.set(this.keys[layer] as number[]);
    valuesOut.set(this.values[layer] as number[]);
  }

  evictOldest(layer: number, count: number): void {
    (this.keys[layer] as number[]).splice(0, count * this.#tokenLength);
    (this.values[layer] as number[]).splice(0, count * this.#tokenLength);
  }

  append(layer: number, keys: Float32Array, values: Float32Array, tokenCount: number, keyBits: number, valueBits: number): number {
    this.appendWidths.push([tokenCount, keyBits, valueBits]);
    (this.keys[layer] as number[]).push(...keys.subarray(0, tokenCount * this.#tokenLength));
    (this.values[layer] as number[]).push(...values.subarray(0, tokenCount * this.#tokenLength));
    return tokenCount;
  }
}
