import { QaqError } from '@qaq/errors';
import type { GrowableMemory } from '@qaq/kv-cache';

/**
 * The slice of the WebAssembly JS API this package uses, typed here because pure packages compile without the
 * DOM or Node type libraries (both of which declare it). Reached through globalThis and checked once.
 */
export interface WasmMemory extends GrowableMemory {}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmModule {
  readonly __brand?: 'module';
}

export interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  /** With a compiled module, resolves to its instance. */
  instantiate(module: WasmModule, imports: Record<string, Record<string, unknown>>): Promise<WasmInstance>;
  validate(bytes: Uint8Array): boolean;
}

/** The host's WebAssembly API, or null where there is none. */
export function webAssemblyApi(): WebAssemblyApi | null {
  const candidate: unknown = (globalThis as { WebAssembly?: unknown }).WebAssembly;
  if (typeof candidate !== 'object' || candidate === null) return null;
  const api = candidate as Partial<WebAssemblyApi>;
  return typeof api.Memory === 'function' && typeof api.Module === 'function' && typeof api.Instance === 'function' &&
    typeof api.validate === 'function' && typeof api.compile === 'function' && typeof api.instantiate === 'function'
    ? (api as WebAssemblyApi)
    : null;
}

// (module (func (result v128) (v128.const i32x4 0 0 0 0))): valid only where simd128 is supported.
const SIMD_PROBE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00, 0x0a,
  0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x0b,
]);

/** Whether this host runs WebAssembly with the simd128 feature. */
export function simdSupported(): boolean {
  const api = webAssemblyApi();
  return api !== null && api.validate(SIMD_PROBE);
}

/** Decodes standard base64 with no runtime-specific decoder (they differ between Node and browsers). */
export function decodeBase64(text: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lookup = new Int16Array(128).fill(-1);
  for (let index = 0; index < alphabet.length; index += 1) lookup[alphabet.charCodeAt(index)] = index;
  const clean = text.replace(/=+$/, '');
  const bytes = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let accumulator = 0;
  let bits = 0;
  let output = 0;
  for (let index = 0; index < clean.length; index += 1) {
    const code = clean.charCodeAt(index);
    const value = code < 128 ? (lookup[code] as number) : -1;
    if (value < 0) throw new QaqError('invalid-argument', 'invalid base64 character', { details: { index } });
    accumulator = (accumulator << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[output++] = (accumulator >>> bits) & 0xff;
    }
  }
  return bytes;
}

/**
 * Whether this host can run the threaded kernel: shared WebAssembly memories (SharedArrayBuffer; in browsers only
 * on cross-origin isolated pages), the threads feature and Atomics.wait. Checked by making a one-page shared memory.
 */
export function sharedMemorySupported(): boolean {
  const host = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: unknown; Atomics?: { wait?: unknown } };
  if (typeof host.SharedArrayBuffer !== 'function' || host.crossOriginIsolated === false) return false;
  if (typeof host.Atomics?.wait !== 'function') return false;
  const api = webAssemblyApi();
  if (api === null || !simdSupported()) return false;
  try {
    const memory = new api.Memory({ initial: 1, maximum: 1, shared: true });
    return (memory.buffer as unknown) instanceof (host.SharedArrayBuffer as new (length: number) => object);
  } catch {
    return false;
  }
}

/**
 * Whether the threaded kernel can run on this thread: shared memory, and a blocking Atomics.wait (browsers refuse
 * it on the main thread; the calling thread waits for its workers that way).
 */
export function threadsSupported(): boolean {
  if (!sharedMemorySupported()) return false;
  try {
    // Returns 'not-equal' at once where blocking waits are allowed, throws where they are not.
    return Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0) === 'not-equal';
  } catch {
    return false;
  }
}
