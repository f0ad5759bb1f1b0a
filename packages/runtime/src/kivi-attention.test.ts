import { AttentionWorkspace, KiviCache, referenceAttentionMulti } from '@qaq/kv-cache';
import { normalValues, uniformGenerator } from '@qaq/kv-cache/testing';
import { describe, expect, it } from 'vitest';
import { memoryFromAccounting } from './cache-memory.js';
import { KiviAttention } from './kivi-attention.js';
import type { LayerAttentionShape } from './layer-attention.js';

const values = (count: number, seed: number): Float32Array => normalValues(count, uniformGenerator(seed), 1);

describe('KiviAttention', () => {
  const shape: LayerAttentionShape = { layerCount: 2, queryHeadCount: 4, keyValueHeadCount: 2, headDim: 8, scoreScale: 0.3, slidingWindows: [20, null] };
  const blockTokens = 4;
  const residualTokens = 6;
  const tokenLength = shape.keyValueHeadCount * shape.headDim;
  const queryLength = shape.queryHeadCount * shape.headDim;

  it('drops blocks that left a sliding window, with the same outputs as masking them, and keeps full layers whole', () => {
    const attention = new KiviAttention({ shape, bits: 2, blockTokens, residualTokens });
    // What masking alone gives: the same quantization with nothing dropped, the window applied by the reference.
    const masked = new KiviCache({ layers: 2, kvHeads: 2, headDim: 8, keyBits: 2, valueBits: 2, blockTokens, residualTokens });
    const chunks = [7, ...Array.from({ length: 30 }, () => 1), 9, ...Array.from({ length: 20 }, () => 1)];
    let seed = 1;
    let total = 0;
    for (const count of chunks) {
      total += count;
      for (let layer = 0; layer < 2; layer += 1) {
        const query = values(count * queryLength, seed++);
        const key = values(count * tokenLength, seed++);
        const value = values(count * tokenLength, seed++);
        const output = new Float32Array(count * queryLength);
        attention.attend(layer, query, key, value, count, output);
        masked.append(layer, key, value, count);
        const expected = new Float32Array(count * queryLength);
        const window = shape.slidingWindows[layer] ?? null;
        const options = window === null ? { queryHeads: 4, scoreScale: 0.3 } : { queryHeads: 4, scoreScale: 0.3, slidingWindow: window };
        referenceAttentionMulti(masked, layer, query, count, options, expected, null, new AttentionWorkspace());
        for (let index = 0; index < expected.length; index += 1) expect(output[index]).toBeCloseTo(expected[index] as number, 6);
      }
      // Held: the window, at most one partly visible block, the residual and the block being filled.
      expect(attention.tokenCount(0)).toBeLessThanOrEqual(20 - 1 + blockTokens + residualTokens + blockTokens);
      expect(attention.tokenCount(1)).toBe(total);
    }
    expect(attention.tokenCount(0)).toBeLessThan(total);
    expect(attention.memory().bytes).toBeLessThan(memoryFromAccounting(masked.accounting()).bytes);
  });
});
