import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** `$QAQ_CACHE_DIR`, else `$XDG_CACHE_HOME/qaq`, else `~/.cache/qaq`. Empty variables count as unset. */
export function resolveCacheDirectory(
  environment: Readonly<Record<string, string | undefined>> = process.env,
  homeDirectory: string = homedir(),
): string {
  const explicit = environment['QAQ_CACHE_DIR'];
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const xdg = environment['XDG_CACHE_HOME'];
  if (xdg !== undefined && xdg !== '') return resolve(xdg, 'qaq');
  return join(homeDirectory, '.cache', 'qaq');
}

/** Where a registered model's file lives: `<cache>/models/<id>/<fileName>` (other packages' tests look here). */
export function cachedModelPath(cacheDirectory: string, id: string, fileName: string): string {
  return join(cacheDirectory, 'models', id, fileName);
}
