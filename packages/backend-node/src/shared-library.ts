import { constants } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Whether the dynamic loader can open a shared library, and the loader's message when it cannot. */
export interface LibraryCheck {
  readonly library: string;
  readonly loadable: boolean;
  readonly error?: string;
}

/**
 * Asks the dynamic loader (dlopen, with the library path and the ld cache) to open `library`. `process.dlopen`
 * opens the file first and only then looks for a Node addon entry point, so "did not self-register" (or a missing
 * napi symbol) means the library itself loaded fine; "cannot open shared object file" means it is missing or one of
 * its own dependencies is.
 */
export function checkSharedLibrary(library: string, flags?: number): LibraryCheck {
  const module = { exports: {} };
  try {
    if (flags === undefined) process.dlopen(module, library);
    else process.dlopen(module, library, flags);
    return { library, loadable: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/self-register|napi_register_module|Module did not/i.test(message)) return { library, loadable: true };
    return { library, loadable: false, error: message };
  }
}

/** glibc's RTLD_NODELETE (os.constants.dlopen does not export it): dlclose leaves the library loaded. */
const dlopenNoDelete = 0x1000;

/**
 * Loads `library` (a path, or a name the loader searches) for the rest of the process, its symbols global, so that
 * onnxruntime's later dlopen of the CUDA provider finds its DT_NEEDED libraries already loaded by SONAME, without
 * LD_LIBRARY_PATH (which the loader reads only at process start). `process.dlopen` closes a library that registers
 * no Node module; RTLD_NODELETE keeps it mapped.
 */
export function preloadSharedLibrary(library: string): LibraryCheck {
  const { RTLD_NOW, RTLD_GLOBAL } = constants.dlopen as { RTLD_NOW: number; RTLD_GLOBAL: number };
  return checkSharedLibrary(library, RTLD_NOW | RTLD_GLOBAL | dlopenNoDelete);
}

/** The folder holding onnxruntime-node's native binding and the provider libraries the runtime loads beside it. */
export function onnxruntimeBinaryFolder(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('onnxruntime-node/package.json');
  return join(dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch);
}
