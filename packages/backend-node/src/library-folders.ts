import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { LibraryCheck } from './shared-library.js';

/** Extra folders to load CUDA/cuDNN libraries from, before the loader's own search (colon-separated paths). */
export const cudaLibraryPathVariable = 'QAQ_CUDA_LIBRARY_PATH';

/** How one library was found, or why not. */
export interface ResolvedLibrary {
  readonly library: string;
  readonly loadable: boolean;
  /** The file loaded from one of the folders, or undefined when the loader searched by name. */
  readonly path: string | undefined;
  readonly error?: string;
}

/** `QAQ_CUDA_LIBRARY_PATH` entries first, then `extra` (the install manifest's folders), without repeats or blanks. */
export function cudaLibraryFolders(environment: NodeJS.ProcessEnv, extra: readonly string[]): string[] {
  const fromVariable = (environment[cudaLibraryPathVariable] ?? '').split(delimiter);
  return [...new Set([...fromVariable, ...extra].filter((folder) => folder.trim() !== ''))];
}

/**
 * Loads each library from the first of `folders` that holds a file of that name, else by name through the dynamic
 * loader (LD_LIBRARY_PATH at process start, the ld cache). A library whose own dependencies are not loaded yet fails
 * the first time, so failures are retried while a pass makes progress: the order of `libraries` does not matter.
 */
export function resolveLibraries(
  libraries: readonly string[],
  folders: readonly string[],
  load: (pathOrName: string) => LibraryCheck,
): ResolvedLibrary[] {
  const located = new Map(libraries.map((library) => [library, folders.map((folder) => join(folder, library)).find((path) => existsSync(path))]));
  const results = new Map<string, ResolvedLibrary>();
  let pending = [...new Set(libraries)];
  for (;;) {
    const failed: string[] = [];
    for (const library of pending) {
      const path = located.get(library);
      const check = load(path ?? library);
      const result: ResolvedLibrary = check.loadable
        ? { library, loadable: true, path }
        : { library, loadable: false, path, ...(check.error === undefined ? {} : { error: check.error }) };
      results.set(library, result);
      if (!check.loadable) failed.push(library);
    }
    if (failed.length === 0 || failed.length === pending.length) break;
    pending = failed;
  }
  return libraries.map((library) => results.get(library)!);
}
