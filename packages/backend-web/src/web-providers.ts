import type { ExecutionProviderName } from '@qaq/backend-spec';

/** The providers of this backend: onnxruntime-web's native WebGPU execution provider and its WebAssembly CPU one. */
export const webProviders = ['webgpu', 'wasm'] as const satisfies readonly ExecutionProviderName[];

export type WebProviderName = (typeof webProviders)[number];

/**
 * The web provider a requested name means, or undefined when this backend has no such provider. 'cpu' is
 * onnxruntime-web's own alias of 'wasm' (its CPU provider runs in WebAssembly), so it is accepted and reported as
 * 'wasm'.
 */
export function toWebProvider(name: ExecutionProviderName): WebProviderName | undefined {
  if (name === 'cpu') return 'wasm';
  return webProviders.find((provider) => provider === name);
}
