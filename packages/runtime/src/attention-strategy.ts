import { createAttention, type CompactAttention } from '@qaq/attention-kernel';
import type { Backend, SessionOptions } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import type { CacheAttentionKernel } from './compact-cache-attention.js';
import { GraphAttentionKernel } from './graph-attention-kernel.js';

/**
 * Where attention over the compact cache runs: 'wasm-kernel' (default) — the fused WebAssembly SIMD kernel of
 * @qaq/attention-kernel, on the CPU; 'graph' — an ONNX graph on the model's backend and execution providers
 * (GraphAttentionKernel), so a GPU provider keeps attention on the GPU.
 */
export type AttentionStrategyName = 'wasm-kernel' | 'graph';

export interface AttentionStrategyOptions {
  readonly attention?: AttentionStrategyName;
  /** 'wasm-kernel': this kernel instead of `createAttention()`. */
  readonly kernel?: CompactAttention;
  /** 'graph': the backend and session options of the attention sessions. */
  readonly backend?: Backend;
  readonly session?: SessionOptions;
}

/** The attention kernel CompactCacheAttention gets for a strategy. */
export async function createCacheAttentionKernel(options: AttentionStrategyOptions): Promise<CacheAttentionKernel> {
  const strategy = options.attention ?? 'wasm-kernel';
  if (strategy === 'wasm-kernel') return options.kernel ?? (await createAttention());
  if (strategy !== 'graph') {
    throw new QaqError('invalid-attention-strategy', "attention must be 'wasm-kernel' or 'graph'", { details: { attention: strategy } });
  }
  if (options.backend === undefined) {
    throw new QaqError('invalid-attention-strategy', "attention 'graph' needs the backend to run its sessions on", { details: { attention: strategy } });
  }
  return new GraphAttentionKernel({ backend: options.backend, ...(options.session === undefined ? {} : { session: options.session }) });
}
