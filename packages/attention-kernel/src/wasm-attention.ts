import { QaqError } from '@qaq/errors';
import { KvCache, MemoryArena, POOL_BITS, type GroupStore, type KvCacheConfig } from '@qaq/kv-cache';
import { KERNEL_WASM_BASE64 } from './kernel-wasm.generated.js';
import { JsAttention } from './js-attention.js';
import { queryBlockSize, validateAttention, type KernelAttentionOptions } from './validate-attention.js';
import { decodeBase64, webAssemblyApi, type WasmInstance, type WasmMemory, type WebAssemblyApi } from './webassembly-runtime.js';

/** i32 words of one kind's descriptor (see assembly/kernel.ts): 5 header words, then 5 per bit width 0..16. */
const DESCRIPTOR_WORDS = 5 + 17 * 5;

type AttendFunction = (
  keyDescriptor: number,
  valueDescriptor: number,
  tokenCount: number,
  kvHeads: number,
  headDim: number,
  groupsPerToken: number,
  queryHeads: number,
  queryCount: number,
  firstPosition: number,
  window: number,
  scoreScale: number,
  queries: number,
  output: number,
  maxProbabilities: number,
  scratch: number,
) => void;

interface KernelExports {
  attend: AttendFunction;
  scratchBytes: (rows: number, tokenCount: number, headDim: number) => number;
  heapBase: () => number;
}

function kernelExports(instance: WasmInstance): KernelExports {
  const { attend, scratchBytes, heapBase } = instance.exports;
  if (typeof attend !== 'function' || typeof scratchBytes !== 'function' || typeof heapBase !== 'function') {
    throw new QaqError('kernel-load-failed', 'the kernel module lacks its exports', { details: { exports: Object.keys(instance.exports) } });
  }
  return { attend: attend as AttendFunction, scratchBytes: scratchBytes as KernelExports['scratchBytes'], heapBase: heapBase as () => number };
}

function requireApi(): WebAssemblyApi {
  const api = webAssemblyApi();
  if (api === null) throw new QaqError('webassembly-unavailable', 'this runtime has no WebAssembly', { details: {} });
  return api;
}

/**
 * The WebAssembly SIMD kernel with its memory. Caches made by `createCache` keep their pools in that memory (an
 * arena), so `attend` reads the packed cache in place: nothing is copied per step except the queries in and the
 * outputs and probabilities out. Transient fp32 data (scores of one block of query rows, one group slice,
 * accumulators) stays bounded by one layer. Head dims not a multiple of 8, or above 512, run the JS path.
 */
export class WasmAttention {
  readonly kind = 'wasm-simd' as const;
  readonly memory: WasmMemory;
  readonly arena: MemoryArena;
  private readonly kernel: KernelExports;
  private readonly descriptors: number;
  private ioOffset = 0;
  private ioBytes = 0;
  private readonly fallback = new JsAttention();
  private floats = new Float32Array(0);
  private words = new Int32Array(0);
  private viewGeneration = -1;

  private constructor(memory: WasmMemory, instance: WasmInstance) {
    this.memory = memory;
    this.kernel = kernelExports(instance);
    this.arena = new MemoryArena(memory, this.kernel.heapBase());
    this.descriptors = this.arena.allocate(2 * DESCRIPTOR_WORDS * 4);
  }

  /** Compiles and instantiates the embedded module asynchronously (browsers limit synchronous compiles on the main thread). */
  static async create(): Promise<WasmAttention> {
    const api = requireApi();
    const module = await api.compile(decodeBase64(KERNEL_WASM_BASE64));
    const memory = new api.Memory({ initial: 16 });
    return new WasmAttention(memory, await api.instantiate(module, { env: { memory } }));
  }

  /** Synchronous variant for Node and workers; `moduleBytes` replaces the embedded build (experiments). */
  static createSync(moduleBytes: Uint8Array = decodeBase64(KERNEL_WASM_BASE64)): WasmAttention {
    const api = requireApi();
    const module = new api.Module(moduleBytes);
    const memory = new api.Memory({ initial: 16 });
    return new WasmAttention(memory, new api.Instance(module, { env: { memory } }));
  }

  /** A compact cache whose pools live in this kernel's memory (the only kind `attend` reads in place). */
  createCache(config: KvCacheConfig): KvCache {
    return new KvCache(config, { arena: this.arena });
  }

  /** One decode step: queries [queryHeads, headDim] attend to every cached token of `layer`. */
  attend(cache: KvCache, layer: number, queries: Float32Array, options: KernelAttentionOptions, output: Float32Array, maxProbabilities: Float32Array | null): void {
    this.attendMulti(cache, layer, queries, 1, options, output, maxProbabilities);
  }

  /**
   * The last `queryCount` positions of `layer` (prefill chunk; causal, optional sliding window), with the same
   * contract as @qaq/kv-cache's referenceAttentionMulti: output [queryCount, queryHeads, headDim] and
   * maxProbabilities [queryCount, kvHeads, tokenCount] (zeros where masked).
   */
  attendMulti(
    cache: KvCache,
    layer: number,
    queries: Float32Array,
    queryCount: number,
    options: KernelAttentionOptions,
    output: Float32Array,
    maxProbabilities: Float32Array | null,
  ): void {
    if (cache.arena !== this.arena) {
      throw new QaqError('cache-not-in-kernel-memory', 'the cache was not made by this kernel (createCache)', { details: { layer } });
    }
    // The SIMD loops step 8 elements; the integer score sums stay exact up to D = 512 (see assembly/kernel.ts).
    if (cache.headDim % 8 !== 0 || cache.headDim > 512) {
      this.fallback.attendMulti(cache, layer, queries, queryCount, options, output, maxProbabilities);
      return;
    }
    const tokenCount = validateAttention(cache, layer, queries, queryCount, options, output, maxProbabilities);
    const { kvHeads, headDim, groupsPerToken } = cache;
    const { queryHeads, scoreScale } = options;
    const headsPerKv = queryHeads / kvHeads;
    const rowLength = queryHeads * headDim;
    const blockQueries = Math.min(queryCount, queryBlockSize(headsPerKv, tokenCount, headDim));
    const window = options.slidingWindow === undefined || options.slidingWindow >= tokenCount ? 0 : Math.ceil(options.slidingWindow);
    // One I/O block: queries and outputs of a query block, its probabilities, then the kernel's scratch.
    const queryBytes = blockQueries * rowLength * 4;
    const probabilityBytes = maxProbabilities === null ? 0 : blockQueries * kvHeads * tokenCount * 4;
    const scratchBytes = this.kernel.scratchBytes(blockQueries * headsPerKv, tokenCount, headDim);
    const base = this.reserveIo(2 * queryBytes + probabilityBytes + scratchBytes);
    const keyDescriptor = this.descriptors;
    const valueDescriptor = this.descriptors + DESCRIPTOR_WORDS * 4;
    const { floats: heap, words } = this.views();
    this.writeDescriptor(cache.store('keys', layer), keyDescriptor, words);
    this.writeDescriptor(cache.store('values', layer), valueDescriptor, words);
    for (let firstQuery = 0; firstQuery < queryCount; firstQuery += blockQueries) {
      const count = Math.min(blockQueries, queryCount - firstQuery);
      heap.set(queries.subarray(firstQuery * rowLength, (firstQuery + count) * rowLength), base / 4);
      this.kernel.attend(
        keyDescriptor,
        valueDescriptor,
        tokenCount,
        kvHeads,
        headDim,
        groupsPerToken,
        queryHeads,
        count,
        tokenCount - queryCount + firstQuery,
        window,
        scoreScale,
        base,
        base + queryBytes,
        maxProbabilities === null ? 0 : base + 2 * queryBytes,
        base + 2 * queryBytes + probabilityBytes,
      );
      output.set(heap.subarray((base + queryBytes) / 4, (base + queryBytes) / 4 + count * rowLength), firstQuery * rowLength);
      if (maxProbabilities !== null) {
        const start = (base + 2 * queryBytes) / 4;
        maxProbabilities.set(heap.subarray(start, start + count * kvHeads * tokenCount), firstQuery * kvHeads * tokenCount);
      }
    }
  }

  /** Bytes of kernel memory in use: the arena's live blocks (cache pools, descriptors, I/O block). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  private reserveIo(bytes: number): number {
    if (bytes > this.ioBytes) {
      if (this.ioBytes > 0) this.arena.release(this.ioOffset, this.ioBytes);
      const size = Math.max(bytes, 2 * this.ioBytes);
      this.ioOffset = this.arena.allocate(size);
      this.ioBytes = size;
    }
    return this.ioOffset;
  }

  /** Views of the memory, re-derived only after it grew (no allocation per step otherwise). */
  private views(): { floats: Float32Array; words: Int32Array } {
    if (this.viewGeneration !== this.arena.generation || this.floats.buffer !== this.memory.buffer) {
      this.floats = new Float32Array(this.memory.buffer);
      this.words = new Int32Array(this.memory.buffer);
      this.viewGeneration = this.arena.generation;
    }
    return { floats: this.floats, words: this.words };
  }

  private writeDescriptor(store: GroupStore, offset: number, words: Int32Array): void {
    const base = offset / 4;
    words.fill(0, base, base + DESCRIPTOR_WORDS);
    words[base] = store.bitsOffset;
    words[base + 1] = store.slotsOffset;
    words[base + 2] = store.slotIndexBytes;
    words[base + 3] = store.outlierCount;
    words[base + 4] = store.positionBytes;
    for (const width of POOL_BITS) {
      const pool = store.pools[width];
      if (pool === undefined) continue;
      const at = base + 5 + width * 5;
      words[at] = pool.codesOffset;
      words[at + 1] = pool.parametersOffset;
      words[at + 2] = pool.outlierValuesOffset;
      words[at + 3] = pool.outlierPositionsOffset;
      words[at + 4] = pool.layout.codeBytes;
    }
  }
}
