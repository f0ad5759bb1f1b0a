export { WasmAttention, type SplitPhaseTimes, type ThreadedAttentionOptions } from './wasm-attention.js';
export { JsAttention } from './js-attention.js';
export { createAttention, type CompactAttention, type CreateAttentionOptions } from './create-attention.js';
export { sharedMemorySupported, simdSupported, threadsSupported } from './webassembly-runtime.js';
export type { KernelAttentionOptions } from './validate-attention.js';
export type { KernelThreadsOptions } from './kernel-threads.js';
export { KERNEL_WORKER_SOURCE, type KernelWorkerHandle, type KernelWorkerInit, type KernelWorkerMessage, type StartKernelWorker } from './kernel-worker.js';
