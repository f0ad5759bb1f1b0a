import { existsSync } from 'node:fs';
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
export function checkSharedLibrary(library: string): LibraryCheck {
  const module = { exports: {} };
  try {
    process.dlopen(module, library);
    return { library, loadable: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/self-register|napi_register_module|Module did not/i.test(message)) return { library, loadable: true };
    return { library, loadable: false, error: message };
  }
}

/** The folder holding onnxruntime-node's native binding and the provider libraries the runtime loads beside it. */
export function onnxruntimeBinaryFolder(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('onnxruntime-node/package.json');
  return join(dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch);
}

/** The provider libraries of `names` that are absent from onnxruntime-node's binary folder. */
export function missingProviderLibraries(names: readonly string[]): string[] {
  const folder = onnxruntimeBinaryFolder();
  return names.filter((name) => !existsSync(join(folder, name)));
}
