export { WasmAttention } from './wasm-attention.js';
export { JsAttention } from './js-attention.js';
export { createAttention, type CompactAttention } from './create-attention.js';
export { simdSupported } from './webassembly-runtime.js';
export type { KernelAttentionOptions } from './validate-attention.js';
