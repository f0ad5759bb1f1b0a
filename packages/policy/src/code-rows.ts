import { decodeProbability, probabilityCodeBits } from './stored-probability.js';

/**
 * Helpers over the attention stores' layout: per layer, rows of `capacity` 8-bit probability codes, one entry per
 * token; with per-head rows, row r belongs to KV head r % kvHeads.
 */

/** The decoded maximum of values[first], values[first + stride], … (0 when empty). */
export function maximumAlong(values: Uint8Array, first: number, stride: number): number {
  let maximum = 0;
  for (let index = first; index < values.length; index += stride) {
    const code = values[index] as number;
    if (code > maximum) maximum = code;
  }
  return decodeProbability(maximum);
}

/**
 * Every token's maximum over all rows (out[token], `overHeads`) or over its head's rows (out[token · kvHeads +
 * head]): one sequential pass per row. Maxima are taken on codes in out's own bytes, then made float32 patterns.
 */
export function rowMaxima(values: Uint8Array, capacity: number, kvHeads: number, overHeads: boolean, out: Float32Array, tokenCount: number): void {
  const width = overHeads ? tokenCount : tokenCount * kvHeads;
  const outCodes = new Uint32Array(out.buffer, out.byteOffset, width);
  outCodes.fill(0);
  for (let row = 0, start = 0; start < values.length; row += 1, start += capacity) {
    if (overHeads) {
      for (let token = 0; token < tokenCount; token += 1) {
        const code = values[start + token] as number;
        if (code > (outCodes[token] as number)) outCodes[token] = code;
      }
    } else {
      const head = row % kvHeads;
      for (let token = 0, target = head; token < tokenCount; token += 1, target += kvHeads) {
        const code = values[start + token] as number;
        if (code > (outCodes[target] as number)) outCodes[target] = code;
      }
    }
  }
  for (let index = 0; index < width; index += 1) outCodes[index] = probabilityCodeBits(outCodes[index] as number);
}

/** Drops each row's `count` oldest tokens of `tokenCount` (sliding-window eviction). */
export function shiftRows(values: Uint8Array, capacity: number, count: number, tokenCount: number): void {
  for (let start = 0; start < values.length; start += capacity) values.copyWithin(start, start + count, start + tokenCount);
}

/** The rows moved into a buffer of `capacity` per row, the first `live` tokens kept. */
export function growRows(values: Uint8Array, oldCapacity: number, capacity: number, live: number): Uint8Array {
  const rows = values.length / oldCapacity;
  const grown = new Uint8Array(capacity * rows);
  for (let row = 0; row < rows; row += 1) grown.set(values.subarray(row * oldCapacity, row * oldCapacity + live), row * capacity);
  return grown;
}
