import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryArena, type GrowableMemory } from './arena.js';
import { KvCache } from './kv-cache.js';
import { fp16Values } from './random.test-utils.js';
import { newMemory } from './memory.test-utils.js';

const bitsArbitrary = fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 16);

describe('MemoryArena', () => {
  it('hands out aligned, disjoint blocks, reuses freed sizes and grows the memory by doubling', () => {
    const memory = newMemory();
    const arena = new MemoryArena(memory, 100);
    const first = arena.allocate(10);
    const second = arena.allocate(70_000);
    expect(first % 16).toBe(0);
    expect(first).toBeGreaterThanOrEqual(100);
    expect(second).toBeGreaterThanOrEqual(first + 16);
    expect(memory.buffer.byteLength).toBe(131072);
    expect(arena.generation).toBeGreaterThan(0);
    arena.release(first, 10);
    expect(arena.allocate(12)).toBe(first);
    expect(arena.liveBytes).toBe(16 + 70_000);
    expect(arena.highWater).toBe(112 + 16 + 70_000);
    // SIMD kernels may load 16 bytes from the last byte of a block: the memory always extends 64 bytes further.
    const last = arena.allocate(memory.buffer.byteLength - arena.highWater - 10);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(arena.highWater + 64);
    expect(last).toBeGreaterThan(second);
  });
});

describe('MemoryArena limits', () => {
  it('reports a memory that cannot grow as arena-exhausted, leaving the arena usable', () => {
    const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => GrowableMemory } })
      .WebAssembly;
    const arena = new MemoryArena(new wasm.Memory({ initial: 1, maximum: 2 }));
    expect(() => arena.allocate(200_000)).toThrow(/cannot grow/);
    expect(arena.allocate(1000)).toBe(0);
  });
});

describe('KvCache in an arena', () => {
  it('reads back, accounts and evicts exactly like the heap cache under random operations, across memory growth', () => {
    fc.assert(
      fc.property(
        fc.record({
          groupLayout: fc.constantFrom<'token-layer-head' | 'token-layer'>('token-layer-head', 'token-layer'),
          outlierFraction: fc.constantFrom(0, 0.1),
          recentWindow: fc.integer({ min: 0, max: 3 }),
          initialCapacityTokens: fc.integer({ min: 1, max: 4 }),
        }),
        fc.array(
          fc.record({
            tokens: fc.integer({ min: 1, max: 40 }),
            keyBits: bitsArbitrary,
            valueBits: bitsArbitrary,
            seed: fc.integer({ min: 1, max: 1 << 30 }),
            demote: fc.nat(200),
            evict: fc.nat(6),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (options, steps) => {
          const memory = newMemory();
          const arena = new MemoryArena(memory);
          const config = { layers: 2, kvHeads: 2, headDim: 32, ...options };
          const heap = new KvCache(config);
          const placed = new KvCache(config, { arena });
          for (const step of steps) {
            const data = fp16Values(step.tokens * 64, step.seed);
            for (const cache of [heap, placed]) {
              cache.append(1, data, data, step.tokens, step.keyBits, step.valueBits);
              const quantized = cache.recentStart(1) * cache.groupsPerToken;
              if (quantized > 0) {
                const group = step.demote % quantized;
                if ((cache.store('keys', 1).bitsOf(group)) > 1) cache.setGroupBits('keys', 1, group, 1);
              }
              cache.evictOldest(1, Math.min(step.evict, cache.tokenCount(1)));
            }
          }
          const length = heap.tokenCount(1) * 64;
          const expectedKeys = new Float32Array(length);
          const expectedValues = new Float32Array(length);
          const keys = new Float32Array(length);
          const values = new Float32Array(length);
          heap.readLayer(1, expectedKeys, expectedValues);
          placed.readLayer(1, keys, values);
          expect(keys).toEqual(expectedKeys);
          expect(values).toEqual(expectedValues);
          expect(placed.accounting()).toEqual(heap.accounting());
          expect(placed.accounting().totalBytes).toBe(placed.heldBytes());
          const store = placed.store('keys', 1);
          const tagView = new Uint8Array(memory.buffer, store.arenaOffsets.bits, (store.groupCount + 1) >>> 1);
          expect(tagView).toEqual(store.packedTags.subarray(0, (store.groupCount + 1) >>> 1));
          const before = arena.liveBytes;
          placed.dispose();
          expect(arena.liveBytes).toBeLessThan(before);
        },
      ),
      { numRuns: 40 },
    );
  });
});
