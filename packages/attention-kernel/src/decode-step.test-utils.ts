import type { KvCache } from '@qaq/kv-cache';
import type { Shape } from './attention-shapes.test-utils.js';
import { startNodeKernelWorker } from './node/node-threads.js';
import { WasmAttention } from './wasm-attention.js';
import { threadsSupported } from './webassembly-runtime.js';

/** One decode step's output and per-KV-head probabilities. */
export interface DecodeResult {
  readonly output: Float32Array;
  readonly probabilities: Float32Array;
}

/** The kernel options a decode-step test varies. */
export interface DecodeStepOptions {
  readonly fastScores?: boolean;
  readonly fastValues?: boolean;
  readonly negligibleProbability?: number;
}

/** One query position over layer 0 of `cache` (outputs start as NaN, so anything left unwritten shows). */
export function decodeStep(kernel: Pick<WasmAttention, 'attendMulti'>, cache: KvCache, queries: Float32Array, shape: Shape, options: DecodeStepOptions): DecodeResult {
  const output = new Float32Array(shape.queryHeads * shape.headDim).fill(Number.NaN);
  const probabilities = new Float32Array(shape.kvHeads * cache.tokenCount(0)).fill(Number.NaN);
  kernel.attendMulti(cache, 0, queries, 1, { queryHeads: shape.queryHeads, scoreScale: 1 / Math.sqrt(shape.headDim), ...options }, output, probabilities);
  return { output, probabilities };
}

/**
 * A two-thread kernel that splits even short test caches into chunks (64 tokens, four per thread), or null where
 * WebAssembly threads are missing; the caller disposes of it.
 */
export function smallChunkThreadedKernel(): Promise<WasmAttention> | null {
  return threadsSupported()
    ? WasmAttention.createThreaded({ threads: 2, startWorker: startNodeKernelWorker, minimumChunkTokens: 64, chunksPerThread: 4 })
    : null;
}
