import { QaqError } from '@qaq/errors';
import { KvCache, type KvCacheConfig } from '@qaq/kv-cache';
import { JsAttention } from './js-attention.js';
import type { KernelThreadsOptions } from './kernel-threads.js';
import type { StartKernelWorker } from './kernel-worker.js';
import type { KernelAttentionOptions } from './validate-attention.js';
import { WasmAttention } from './wasm-attention.js';
import { simdSupported, threadsSupported } from './webassembly-runtime.js';

/** What both implementations offer: make a cache they read in place, then attend over it. */
export interface CompactAttention {
  readonly kind: 'wasm-simd' | 'js';
  createCache(config: KvCacheConfig): KvCache;
  attendMulti(
    cache: KvCache,
    layer: number,
    queries: Float32Array,
    queryCount: number,
    options: KernelAttentionOptions,
    output: Float32Array,
    maxProbabilities: Float32Array | null,
  ): void;
  /** Threads a call may use (1: the calling thread only). */
  readonly threadCount?: number;
  /** Releases worker threads, if any (a no-op otherwise). */
  dispose?(): Promise<void>;
}

/** Options of createAttention. */
export interface CreateAttentionOptions extends Partial<Omit<KernelThreadsOptions, 'threads'>> {
  /** Use the JS implementation even where WebAssembly SIMD runs. */
  readonly preferJs?: boolean;
  /**
   * Threads per call, the calling thread included (default 1). Above 1 it needs `startWorker` and shared
   * WebAssembly memory; where shared memory or a blocking Atomics.wait is missing (a browser page that is not
   * cross-origin isolated, a browser's main thread) the single-thread kernel is returned instead.
   */
  readonly threads?: number;
  /** Starts a worker thread: `startNodeKernelWorker` from `@qaq/attention-kernel/node-threads` in Node. */
  readonly startWorker?: StartKernelWorker;
  /** Maximum pages of the threaded kernel's shared memory (default 65,536). */
  readonly maximumPages?: number;
}

class JsCompactAttention implements CompactAttention {
  readonly kind = 'js' as const;
  readonly threadCount = 1;
  private readonly attention = new JsAttention();

  createCache(config: KvCacheConfig): KvCache {
    return new KvCache(config);
  }

  attendMulti(...args: Parameters<CompactAttention['attendMulti']>): void {
    this.attention.attendMulti(...args);
  }

  async dispose(): Promise<void> {}
}

/**
 * The WebAssembly SIMD kernel where the host supports simd128 (unless `preferJs`), else the JS fallback; with
 * `threads` > 1 and shared memory available, the threaded kernel (WasmAttention.createThreaded).
 */
export async function createAttention(options: CreateAttentionOptions = {}): Promise<CompactAttention> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new QaqError('invalid-argument', 'threads must be a positive integer', { details: { threads } });
  }
  if (options.preferJs === true || !simdSupported()) return new JsCompactAttention();
  if (threads === 1 || !threadsSupported()) return WasmAttention.create();
  const { startWorker } = options;
  if (startWorker === undefined) {
    throw new QaqError('invalid-argument', 'threads > 1 needs startWorker (Node: createNodeAttention from @qaq/attention-kernel/node-threads)', {
      details: { threads },
    });
  }
  const { preferJs: _preferJs, threads: _threads, startWorker: _startWorker, ...threadOptions } = options;
  return WasmAttention.createThreaded({ ...threadOptions, threads, startWorker });
}
