/** What appendWithSinks writes to: the compact cache's append (KvCache, or CenteringCache's view of it). */
export interface AppendTarget {
  append(layer: number, keys: Float32Array, values: Float32Array, tokenCount: number, keyBits: number, valueBits: number): number;
}

/**
 * Appends `tokenCount` tokens ([tokenCount, kvHeads, headDim] keys and values) to a layer: the first `sinks` of them
 * (attention sinks, clamped to tokenCount) at fp16, the rest at `keyBits` / `valueBits`. No views are made when
 * there is no sink among them, the common case of every decode step.
 */
export function appendWithSinks(
  cache: AppendTarget,
  layer: number,
  keys: Float32Array,
  values: Float32Array,
  tokenCount: number,
  sinks: number,
  keyBits: number,
  valueBits: number,
): void {
  const fp16Tokens = Math.min(tokenCount, Math.max(0, sinks));
  if (fp16Tokens === 0) {
    cache.append(layer, keys, values, tokenCount, keyBits, valueBits);
    return;
  }
  const length = (fp16Tokens * keys.length) / tokenCount;
  cache.append(layer, keys.subarray(0, length), values.subarray(0, length), fp16Tokens, 16, 16);
  if (fp16Tokens < tokenCount) cache.append(layer, keys.subarray(length), values.subarray(length), tokenCount - fp16Tokens, keyBits, valueBits);
}
