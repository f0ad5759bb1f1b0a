import type { GrowableMemory } from './arena.js';

/** A one-page WebAssembly memory for arena tests (the package is compiled without DOM types, hence the cast). */
export function newMemory(): GrowableMemory {
  const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number }) => GrowableMemory } })
    .WebAssembly;
  return new wasm.Memory({ initial: 1 });
}
