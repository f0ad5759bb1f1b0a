import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KERNEL_THREADS_WASM_BASE64 } from './kernel-threads-wasm.generated.js';
import { KERNEL_WASM_BASE64 } from './kernel-wasm.generated.js';
import { WasmAttention } from './wasm-attention.js';
import { decodeBase64, sharedMemorySupported, simdSupported, threadsSupported, webAssemblyApi } from './webassembly-runtime.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const toolchain = existsSync(join(root, 'node_modules/assemblyscript/bin/asc.js'));

describe('embedded kernel', () => {
  it('decodes to a valid module (magic, version) that needs no import but env.memory', () => {
    const bytes = decodeBase64(KERNEL_WASM_BASE64);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    expect(webAssemblyApi()?.validate(bytes)).toBe(true);
    // Instantiation supplies env.memory only: any other import would make it throw.
    expect(WasmAttention.createSync().memoryBytes).toBeGreaterThan(0);
  });

  it('decodeBase64 matches the platform decoder and rejects bad input', () => {
    const bytes = Uint8Array.from({ length: 257 }, (_, index) => (index * 37) & 0xff);
    for (const length of [0, 1, 2, 3, 4, 255, 257]) {
      const text = Buffer.from(bytes.subarray(0, length)).toString('base64');
      expect(decodeBase64(text)).toEqual(bytes.subarray(0, length));
    }
    expect(() => decodeBase64('ab$c')).toThrow(/base64/);
  });

  it('the host (Node ≥ 16) supports simd128', () => {
    expect(simdSupported()).toBe(true);
  });

  it('the threaded module imports a shared memory only, and not an unshared one', () => {
    const api = webAssemblyApi();
    if (api === null) throw new Error('no WebAssembly');
    // Module.imports/exports are outside the typed slice of the API (webassembly-runtime.ts).
    const reflect = api.Module as unknown as {
      imports(module: unknown): { module: string; name: string; kind: string }[];
      exports(module: unknown): { name: string }[];
    };
    const bytes = decodeBase64(KERNEL_THREADS_WASM_BASE64);
    expect(api.validate(bytes)).toBe(true);
    expect(sharedMemorySupported()).toBe(true);
    expect(threadsSupported()).toBe(true);
    const module = new api.Module(bytes);
    expect(reflect.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(reflect.exports(module).map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['attend', 'scratchBytes', 'heapBase', 'work', 'serve', 'mergeParts', 'partialBytes']),
    );
    const shared = new api.Memory({ initial: 1, maximum: 16, shared: true });
    expect(() => new api.Instance(module, { env: { memory: shared } })).not.toThrow();
    expect(() => new api.Instance(module, { env: { memory: new api.Memory({ initial: 1 }) } })).toThrow();
  });
});

describe.runIf(toolchain)('committed kernel matches a fresh build from source', () => {
  it('assembly/unpack.ts is what the generator writes, and both embedded modules are what asc builds', () => {
    const directory = mkdtempSync(join(tmpdir(), 'qaq-kernel-check-'));
    const unpack = join(directory, 'unpack.ts');
    execFileSync(process.execPath, [join(root, 'scripts/generate-unpack.mjs'), unpack], { stdio: 'pipe' });
    expect(readFileSync(unpack, 'utf8')).toBe(readFileSync(join(root, 'assembly/unpack.ts'), 'utf8'));
    execFileSync(process.execPath, [join(root, 'scripts/build-wasm.mjs'), '--out-dir', directory], { stdio: 'pipe' });
    expect(new Uint8Array(readFileSync(join(directory, 'kernel.wasm')))).toEqual(decodeBase64(KERNEL_WASM_BASE64));
    expect(new Uint8Array(readFileSync(join(directory, 'kernel-threads.wasm')))).toEqual(decodeBase64(KERNEL_THREADS_WASM_BASE64));
  });
});
