import { KvCache } from '@qaq/kv-cache';
import { describe, expect, it } from 'vitest';
import { readBitWidths } from './bit-widths.js';

function randomTokens(tokenCount: number, tokenLength: number, seed: number): Float32Array {
  const values = new Float32Array(tokenCount * tokenLength);
  let state = seed;
  for (let index = 0; index < values.length; index++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    values[index] = state / 2147483648 - 0.5;
  }
  return values;
}

describe('readBitWidths', () => {
  it('reports each layer and token at the width its groups were stored at, means over heads, right-aligned', () => {
    const kvHeads = 2;
    const headDim = 8;
    const cache = new KvCache({ layers: 2, kvHeads, headDim, slidingWindow: [null, 2] });
    const tokenLength = kvHeads * headDim;
    // Layer 0: 3 tokens at 4-bit keys / 2-bit values, then 1 token at 8/3. Layer 1 keeps only its last 2 tokens.
    cache.append(0, randomTokens(3, tokenLength, 1), randomTokens(3, tokenLength, 2), 3, 4, 2);
    cache.append(0, randomTokens(1, tokenLength, 3), randomTokens(1, tokenLength, 4), 1, 8, 3);
    cache.append(1, randomTokens(3, tokenLength, 5), randomTokens(3, tokenLength, 6), 3, 5, 6);
    // One head of layer 0's first token demoted: its mean drops to (2 + 4) / 2 = 3.
    cache.setGroupBits('keys', 0, 1, 2);

    const matrix = readBitWidths(cache);
    expect(matrix.layerCount).toBe(2);
    expect(matrix.tokenCount).toBe(4);
    expect(Array.from(matrix.keys.subarray(0, 4))).toEqual([3, 4, 4, 8]);
    expect(Array.from(matrix.values.subarray(0, 4))).toEqual([2, 2, 2, 3]);
    expect(Array.from(matrix.keys.subarray(4, 8))).toEqual([0, 0, 5, 5]);
    expect(Array.from(matrix.values.subarray(4, 8))).toEqual([0, 0, 6, 6]);
  });
});
