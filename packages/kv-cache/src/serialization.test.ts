import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';
import { KvCache } from './kv-cache.js';
import { fp16Values } from './random.test-utils.js';
import { deserializeCache, serializeCache } from './serialization.js';

function contents(cache: KvCache): unknown {
  const layers: unknown[] = [];
  for (let layer = 0; layer < cache.config.layers; layer += 1) {
    const count = cache.tokenCount(layer);
    const keys = new Float32Array(count * cache.tokenLength);
    const values = new Float32Array(count * cache.tokenLength);
    cache.readLayer(layer, keys, values);
    const groups = count * cache.groupsPerToken;
    const view = cache.view(layer);
    layers.push({
      keys: Array.from(keys),
      values: Array.from(values),
      bits: Array.from({ length: groups }, (_, group) => [view.keyBits(group), view.valueBits(group), view.keyRange(group), view.valueRange(group)]),
      pending: Array.from(cache.store('keys', layer).pendingBits.subarray(0, groups)),
    });
  }
  return { config: cache.config, layers };
}

function build(seed: number, promotionTier: boolean, groupLayout: 'token-layer-head' | 'token-layer'): KvCache {
  const cache = new KvCache({
    layers: 2,
    kvHeads: 2,
    headDim: 16,
    groupLayout,
    outlierFraction: 0.1,
    recentWindow: 2,
    promotionTier,
    slidingWindow: [null, 6],
  });
  const bits = [1, 2, 3, 4, 5, 6, 7, 8, 16];
  for (let step = 0; step < 5; step += 1) {
    const tokens = 1 + ((seed + step) % 3);
    const data = fp16Values(tokens * 32, seed * 31 + step);
    cache.append(step % 2, data, data.map((x) => -x), tokens, bits[(seed + step) % 9] as number, bits[(seed * 7 + step) % 9] as number);
  }
  const quantized = cache.recentStart(0) * cache.groupsPerToken;
  if (quantized > 0) cache.setGroupBits('values', 0, seed % quantized, 1);
  return cache;
}

describe('serialization', () => {
  it('round-trips exactly (values, bits, ranges, pending bits, tier)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.boolean(), fc.constantFrom<'token-layer-head' | 'token-layer'>('token-layer-head', 'token-layer'), (seed, tier, layout) => {
        const cache = build(seed, tier, layout);
        const bytes = serializeCache(cache);
        const copy = deserializeCache(bytes);
        expect(contents(copy)).toEqual(contents(cache));
        expect(serializeCache(copy)).toEqual(bytes);
        const accounting = copy.accounting();
        expect(accounting.totalBytes).toBe(copy.heldBytes());
        expect(accounting.bitsPerElement).toBeCloseTo(cache.accounting().bitsPerElement, 12);
        if (tier && copy.recentStart(0) > 0) {
          copy.setGroupBits('keys', 0, 0, 16);
          cache.setGroupBits('keys', 0, 0, 16);
          expect(contents(copy)).toEqual(contents(cache));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('rejects every truncation and any tampered byte with corrupt-cache', () => {
    const bytes = serializeCache(build(3, true, 'token-layer-head'));
    const expectCorrupt = (data: Uint8Array): void => {
      try {
        deserializeCache(data);
        expect.unreachable('should throw');
      } catch (error) {
        expect(isQaqError(error, 'corrupt-cache'), String(error)).toBe(true);
      }
    };
    for (let length = 0; length < bytes.length; length += Math.max(1, Math.floor(bytes.length / 97))) {
      expectCorrupt(bytes.slice(0, length));
    }
    expectCorrupt(bytes.slice(0, bytes.length - 1));
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (position, flip) => {
        const tampered = bytes.slice();
        tampered[position] = (tampered[position] as number) ^ flip;
        expectCorrupt(tampered);
      }),
      { numRuns: 200 },
    );
    const extended = new Uint8Array(bytes.length + 1);
    extended.set(bytes);
    expectCorrupt(extended);
  });

  it('uses the standard CRC-32', () => {
    const text = '123456789';
    expect(crc32(Uint8Array.from(text, (char) => char.charCodeAt(0)))).toBe(0xcbf43926);
  });
});
