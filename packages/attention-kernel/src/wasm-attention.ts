import { QaqError } from '@qaq/errors';
import { KvCache, MemoryArena, POOL_BITS, probabilityRowCount, type GroupStore, type KvCacheConfig } from '@qaq/kv-cache';
import { KERNEL_THREADS_WASM_BASE64 } from './kernel-threads-wasm.generated.js';
import { CONTROL_BYTES, KernelThreadsControl, PHASE, type PublishedCall } from './kernel-threads-control.js';
import { KernelThreads, type ChunkPlan, type KernelThreadsOptions } from './kernel-threads.js';
import { KERNEL_WASM_BASE64 } from './kernel-wasm.generated.js';
import type { KernelWorkerHandle, StartKernelWorker } from './kernel-worker.js';
import { JsAttention } from './js-attention.js';
import { kernelFlags, negligibleProbabilityFor, queryBlockSize, validateAttention, type KernelAttentionOptions } from './validate-attention.js';
import {
  decodeBase64,
  threadsSupported,
  webAssemblyApi,
  type WasmInstance,
  type WasmMemory,
  type WebAssemblyApi,
} from './webassembly-runtime.js';

/** `performance.now()` where the runtime has it (Node, browsers, workers; this package is compiled without their types). */
function monotonicMilliseconds(): number {
  return (globalThis as { performance?: { now(): number } }).performance?.now() ?? Date.now();
}

/** Wall milliseconds of split calls' phases (WasmAttention.splitPhaseTimes), summed over calls. */
export interface SplitPhaseTimes {
  /** Every chunk's scores (with the values too when nothing is skipped: then `values` stays 0). */
  scores: number;
  /** The call's normalisers and every chunk's values (calls that skip negligible tokens). */
  values: number;
  /** Combining the chunks' results (mergeParts). */
  merge: number;
  calls: number;
}

/** Options of `WasmAttention.createThreaded`. */
export interface ThreadedAttentionOptions extends KernelThreadsOptions {
  /** Starts one worker thread (Node: `startNodeKernelWorker` from `@qaq/attention-kernel/node-threads`). */
  readonly startWorker: StartKernelWorker;
  /** The shared memory's maximum in 64 KiB pages (default 65,536, the wasm32 ceiling; only address space is reserved). */
  readonly maximumPages?: number;
}

/** i32 words of one kind's descriptor (see assembly/attention.ts): 5 header words, then 5 per bit width 0..16. */
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
  negligibleProbability: number,
  flags: number,
) => void;

type MergeFunction = (
  chunkCount: number,
  chunkStride: number,
  partials: number,
  chunkTokens: number,
  tokenCount: number,
  kvHeads: number,
  headDim: number,
  queryHeads: number,
  queryCount: number,
  firstPosition: number,
  window: number,
  sharedScores: number,
  output: number,
  maxProbabilities: number,
  coefficients: number,
) => void;

interface KernelExports {
  attend: AttendFunction;
  scratchBytes: (rows: number, tokenCount: number, headDim: number, kvHeads: number) => number;
  heapBase: () => number;
}

/** What the shared-memory build adds (assembly/kernel-threads.ts). */
interface ThreadExports {
  work: (control: number, thread: number) => number;
  mergeParts: MergeFunction;
  normalizeParts: (chunkCount: number, chunkStride: number, partials: number, kvHeads: number, rows: number, headDim: number, normalizers: number) => void;
  partialBytes: (kvHeads: number, rows: number, headDim: number) => number;
}

function threadExports(instance: WasmInstance): ThreadExports {
  const { work, mergeParts, normalizeParts, partialBytes } = instance.exports;
  if (typeof work !== 'function' || typeof mergeParts !== 'function' || typeof normalizeParts !== 'function' || typeof partialBytes !== 'function') {
    throw new QaqError('kernel-load-failed', 'the threaded kernel module lacks its exports', { details: { exports: Object.keys(instance.exports) } });
  }
  return {
    work: work as ThreadExports['work'],
    mergeParts: mergeParts as MergeFunction,
    normalizeParts: normalizeParts as ThreadExports['normalizeParts'],
    partialBytes: partialBytes as ThreadExports['partialBytes'],
  };
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
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
  private threads: KernelThreads | null = null;
  private threadKernel: ThreadExports | null = null;
  private disposed = false;
  private readonly descriptors: number;
  private ioOffset = 0;
  private ioBytes = 0;
  private readonly fallback = new JsAttention();
  private floats = new Float32Array(0);
  private words = new Int32Array(0);
  private viewGeneration = -1;
  /**
   * Profiling: when set, every split call adds the wall milliseconds of its phases here (scores, then the
   * normalisers and values of a call that skips negligible tokens, or both passes at once, then the merge).
   */
  splitPhaseTimes: SplitPhaseTimes | null = null;

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

  /**
   * The threaded kernel: a shared memory (`maximumPages`), the shared-memory build instantiated here and in
   * `threads − 1` workers over it. Long calls are cut into token-range chunks that every thread claims (the
   * calling thread works too) and merged exactly (flash-decoding: per chunk its maximum and sum); calls spanning
   * fewer than 2·minimumChunkTokens tokens run here alone. Results equal the single-thread kernel's to f32
   * rounding (summation order differs). `dispose()` ends the workers. Throws `shared-memory-unavailable` where
   * shared WebAssembly memory is missing (browsers without cross-origin isolation), `attention-worker-failed`
   * when a worker cannot start.
   */
  static async createThreaded(options: ThreadedAttentionOptions): Promise<WasmAttention> {
    KernelThreads.validate(options);
    const maximumPages = options.maximumPages ?? 65536;
    if (!Number.isInteger(maximumPages) || maximumPages < 16 || maximumPages > 65536) {
      throw new QaqError('invalid-argument', 'maximumPages must be an integer in 16..65536', { details: { maximumPages } });
    }
    if (typeof options.startWorker !== 'function') {
      throw new QaqError('invalid-argument', 'startWorker must be a function that starts a worker thread', { details: {} });
    }
    if (!threadsSupported()) {
      throw new QaqError('shared-memory-unavailable', 'no shared WebAssembly memory (SharedArrayBuffer, cross-origin isolation) or blocking Atomics.wait on this thread', {
        details: {},
      });
    }
    const api = requireApi();
    const module = await api.compile(decodeBase64(KERNEL_THREADS_WASM_BASE64));
    const memory = new api.Memory({ initial: 16, maximum: maximumPages, shared: true });
    const instance = await api.instantiate(module, { env: { memory } });
    const threadKernel = threadExports(instance);
    const attention = new WasmAttention(memory, instance);
    const control = new KernelThreadsControl(memory.buffer, attention.arena.allocate(CONTROL_BYTES), options.spinPolls ?? 0);
    const workers: KernelWorkerHandle[] = [];
    try {
      for (let thread = 1; thread < options.threads; thread += 1) {
        workers.push(options.startWorker({ module, memory, control: control.offset, thread }));
      }
      await Promise.all(workers.map((worker) => worker.ready));
    } catch (cause) {
      control.exit();
      await Promise.allSettled(workers.map(async (worker) => worker.terminate()));
      throw cause instanceof QaqError ? cause : new QaqError('attention-worker-failed', 'an attention worker thread could not start', { details: {}, cause });
    }
    attention.threads = new KernelThreads(control, workers, options);
    attention.threadKernel = threadKernel;
    return attention;
  }

  /** Threads a call may use (1 unless made by createThreaded). */
  get threadCount(): number {
    return this.threads?.threadCount ?? 1;
  }

  /** Ends the worker threads of a threaded kernel; later calls throw `kernel-disposed`. Caches stay readable. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.threads?.dispose();
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
    if (this.disposed) throw new QaqError('kernel-disposed', 'this attention kernel was disposed', { details: { layer } });
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
    if (this.threads !== null) {
      this.threads.ensureUsable();
      this.attendThreaded(cache, layer, queries, queryCount, options, output, maxProbabilities, tokenCount, blockQueries, window);
      return;
    }
    // One I/O block: queries and outputs of a query block, its probabilities, then the kernel's scratch.
    const queryBytes = blockQueries * rowLength * 4;
    const skippedRows = queryCount - probabilityRowCount(queryCount, options);
    const probabilityBytes = maxProbabilities === null ? 0 : blockQueries * kvHeads * tokenCount * 4;
    const scratchBytes = this.kernel.scratchBytes(blockQueries * headsPerKv, tokenCount, headDim, kvHeads);
    const base = this.reserveIo(2 * queryBytes + probabilityBytes + scratchBytes);
    const keyDescriptor = this.descriptors;
    const valueDescriptor = this.descriptors + DESCRIPTOR_WORDS * 4;
    const { floats: heap, words } = this.views();
    this.writeDescriptor(cache.store('keys', layer), keyDescriptor, words);
    this.writeDescriptor(cache.store('values', layer), valueDescriptor, words);
    for (let firstQuery = 0; firstQuery < queryCount; firstQuery += blockQueries) {
      const count = Math.min(blockQueries, queryCount - firstQuery);
      // Blocks wholly before the kept rows (AttentionOptions.probabilityRows) skip the statistics.
      const wantsProbabilities = maxProbabilities !== null && firstQuery + count > skippedRows;
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
        wantsProbabilities ? base + 2 * queryBytes : 0,
        base + 2 * queryBytes + probabilityBytes,
        negligibleProbabilityFor(queryCount, headsPerKv, options),
        kernelFlags(options),
      );
      output.set(heap.subarray((base + queryBytes) / 4, (base + queryBytes) / 4 + count * rowLength), firstQuery * rowLength);
      if (wantsProbabilities) copyKeptRows(heap, (base + 2 * queryBytes) / 4, maxProbabilities, firstQuery, count, skippedRows, kvHeads * tokenCount);
    }
  }

  /** attendMulti's query-block loop on a threaded kernel: each block split into chunks, or run here when short. */
  private attendThreaded(
    cache: KvCache,
    layer: number,
    queries: Float32Array,
    queryCount: number,
    options: KernelAttentionOptions,
    output: Float32Array,
    maxProbabilities: Float32Array | null,
    tokenCount: number,
    blockQueries: number,
    window: number,
  ): void {
    const threads = this.threads as KernelThreads;
    const { kvHeads, headDim, groupsPerToken } = cache;
    const { queryHeads, scoreScale } = options;
    const headsPerKv = queryHeads / kvHeads;
    const rowLength = queryHeads * headDim;
    const keyDescriptor = this.descriptors;
    const valueDescriptor = this.descriptors + DESCRIPTOR_WORDS * 4;
    let descriptorsWritten = false;
    const skippedRows = queryCount - probabilityRowCount(queryCount, options);
    const negligibleProbability = negligibleProbabilityFor(queryCount, headsPerKv, options);
    for (let firstQuery = 0; firstQuery < queryCount; firstQuery += blockQueries) {
      const count = Math.min(blockQueries, queryCount - firstQuery);
      const firstPosition = tokenCount - queryCount + firstQuery;
      const wantsProbabilities = maxProbabilities !== null && firstQuery + count > skippedRows;
      const plan = threads.plan(firstPosition, count, window);
      // One I/O block: queries, outputs and probabilities of the query block, then the split's data or the scratch.
      const queryBytes = count * rowLength * 4;
      const probabilityBytes = wantsProbabilities ? count * kvHeads * tokenCount * 4 : 0;
      const rows = count * headsPerKv;
      const split = plan === null ? null : this.splitLayout(plan, rows, tokenCount, kvHeads, headDim);
      const scratchBytes = split === null ? this.kernel.scratchBytes(rows, tokenCount, headDim, kvHeads) : split.bytes;
      const base = this.reserveIo(2 * queryBytes + align16(probabilityBytes) + scratchBytes);
      const { floats: heap, words } = this.views();
      if (!descriptorsWritten) {
        this.writeDescriptor(cache.store('keys', layer), keyDescriptor, words);
        this.writeDescriptor(cache.store('values', layer), valueDescriptor, words);
        descriptorsWritten = true;
      }
      heap.set(queries.subarray(firstQuery * rowLength, (firstQuery + count) * rowLength), base / 4);
      const outputAddress = base + queryBytes;
      const probabilityAddress = wantsProbabilities ? base + 2 * queryBytes : 0;
      const scratch = base + 2 * queryBytes + align16(probabilityBytes);
      if (plan === null || split === null) {
        this.kernel.attend(
          keyDescriptor, valueDescriptor, tokenCount, kvHeads, headDim, groupsPerToken, queryHeads, count, firstPosition, window,
          scoreScale, base, outputAddress, probabilityAddress, scratch, negligibleProbability, kernelFlags(options),
        );
      } else {
        const threadKernel = this.threadKernel as ThreadExports;
        const sharedScores = scratch;
        const partials = sharedScores + split.scoreBytes;
        const coefficients = partials + plan.chunkCount * split.chunkStride;
        const normalizers = coefficients + split.coefficientBytes;
        const threadScratch = normalizers + split.normalizerBytes;
        const call = {
          keyDescriptor, valueDescriptor, tokenCount, kvHeads, headDim, groupsPerToken, queryHeads, queryCount: count, firstPosition,
          window, scoreScale, queries: base, sharedScores, partials, chunkStride: split.chunkStride, chunkTokens: plan.chunkTokens,
          chunkCount: plan.chunkCount, scratch: threadScratch, scratchStride: split.scratchStride, negligibleProbability, flags: kernelFlags(options),
        };
        const times = this.splitPhaseTimes;
        const started = times === null ? 0 : monotonicMilliseconds();
        let scored = started;
        if (negligibleProbability > 0) {
          // Skipping by the call's probabilities needs every chunk's maximum and sum before any chunk's values.
          this.runSplitPhase(threads, threadKernel, call, PHASE.scores, 0);
          if (times !== null) scored = monotonicMilliseconds();
          threadKernel.normalizeParts(plan.chunkCount, split.chunkStride, partials, kvHeads, rows, headDim, normalizers);
          this.runSplitPhase(threads, threadKernel, call, PHASE.values, normalizers);
        } else {
          this.runSplitPhase(threads, threadKernel, call, PHASE.both, 0);
        }
        const valued = times === null ? 0 : monotonicMilliseconds();
        // One pass for both: timed as scores.
        if (negligibleProbability <= 0) scored = valued;
        threadKernel.mergeParts(
          plan.chunkCount, split.chunkStride, partials, plan.chunkTokens, tokenCount, kvHeads, headDim, queryHeads, count, firstPosition,
          window, sharedScores, outputAddress, probabilityAddress, coefficients,
        );
        if (times !== null) {
          times.scores += scored - started;
          times.values += valued - scored;
          times.merge += monotonicMilliseconds() - valued;
          times.calls += 1;
        }
      }
      output.set(heap.subarray(outputAddress / 4, outputAddress / 4 + count * rowLength), firstQuery * rowLength);
      if (wantsProbabilities) copyKeptRows(heap, probabilityAddress / 4, maxProbabilities, firstQuery, count, skippedRows, kvHeads * tokenCount);
    }
  }

  /** Publishes one phase of a split call, works on its chunks here too, and waits for the others' chunks. */
  private runSplitPhase(threads: KernelThreads, threadKernel: ThreadExports, call: PublishedCall, phase: number, normalizers: number): void {
    threads.control.publish(call, phase, normalizers);
    try {
      threadKernel.work(threads.control.offset, 0);
      threads.control.waitDone(call.chunkCount, threads.timeoutMs);
    } catch (cause) {
      threads.markBroken(cause);
      throw cause;
    }
  }

  /** Bytes of a split call after its I/O: every KV head's weights, the chunks' partial results, per-thread scratch. */
  private splitLayout(plan: ChunkPlan, rows: number, tokenCount: number, kvHeads: number, headDim: number) {
    const threadKernel = this.threadKernel as ThreadExports;
    const paddedTokens = Math.ceil(tokenCount / 4) * 4;
    const scoreBytes = align16(kvHeads * rows * paddedTokens * 4);
    const chunkStride = align16(threadKernel.partialBytes(kvHeads, rows, headDim));
    const coefficientBytes = align16(plan.chunkCount * 8);
    const normalizerBytes = align16(kvHeads * rows * 16);
    // Chunks keep their weights in the shared scores, so a thread's scratch needs no score rows (tokenCount 0),
    // only the list of a chunk's kept tokens (i32 each).
    const scratchStride = align16(this.kernel.scratchBytes(rows, 0, headDim, kvHeads) + plan.chunkTokens * 4);
    const bytes = scoreBytes + plan.chunkCount * chunkStride + coefficientBytes + normalizerBytes + this.threadCount * scratchStride;
    return { scoreBytes, chunkStride, coefficientBytes, normalizerBytes, scratchStride, bytes };
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

/**
 * Copies a query block's probability rows (at heap[start…], `count` rows of `rowLength`, the first being call row
 * `firstQuery`) into `target`, keeping only call rows ≥ `skippedRows` (target row = call row − skippedRows).
 */
function copyKeptRows(heap: Float32Array, start: number, target: Float32Array | null, firstQuery: number, count: number, skippedRows: number, rowLength: number): void {
  if (target === null) return;
  const firstKept = Math.max(0, skippedRows - firstQuery);
  if (firstKept >= count) return;
  target.set(heap.subarray(start + firstKept * rowLength, start + count * rowLength), (firstQuery + firstKept - skippedRows) * rowLength);
}
