import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isQaqError, type QaqError } from '@qaq/errors';
import { afterAll, describe, expect, it } from 'vitest';
import type { FetchFunction } from './download-url.js';
import type { ModelProgressEvent } from './progress.js';
import { resolveModel, urlCachePath } from './resolve-model.js';
import { stampFilePath } from './verification-stamps.js';
import {
  fakeGgufBytes,
  makeTemporaryDirectory,
  removeTemporaryDirectories,
  sha256Hex,
} from './test-helpers.test-utils.js';

afterAll(removeTemporaryDirectories);

async function caught(action: () => Promise<unknown>): Promise<QaqError> {
  try {
    await action();
  } catch (error) {
    if (isQaqError(error)) return error;
    throw error;
  }
  throw new Error('expected a QaqError');
}

/** A fetch answering from memory with a real streamed Response, counting requests. */
function servingFetch(
  body: Uint8Array,
  init: { status?: number; contentLength?: number; chunkSize?: number } = {},
): { fetchImplementation: FetchFunction; requests: string[] } {
  const requests: string[] = [];
  const fetchImplementation: FetchFunction = async (url) => {
    requests.push(url);
    const chunkSize = init.chunkSize ?? 10_000;
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= body.length) return controller.close();
        controller.enqueue(body.slice(offset, offset + chunkSize));
        offset += chunkSize;
      },
    });
    return new Response(stream, {
      status: init.status ?? 200,
      headers: { 'content-length': String(init.contentLength ?? body.length) },
    });
  };
  return { fetchImplementation, requests };
}

describe('resolveModel: local paths and references', () => {
  it('accepts a GGUF file, hashes it once and remembers the hash by size and mtime', async () => {
    const directory = await makeTemporaryDirectory('path');
    const cacheDirectory = join(directory, 'cache');
    const bytes = fakeGgufBytes(50_000, 4);
    const path = join(directory, 'my model.gguf');
    await writeFile(path, bytes);
    const resolved = await resolveModel(path, { cacheDirectory });
    expect(resolved).toEqual({ path, sha256: sha256Hex(bytes), source: 'path' });
    const stamps = JSON.parse(await readFile(stampFilePath(cacheDirectory), 'utf8')) as Record<
      string,
      { sha256: string }
    >;
    expect(stamps[path]?.sha256).toBe(sha256Hex(bytes));

    const verifyEvents: ModelProgressEvent[] = [];
    await resolveModel(path, { cacheDirectory, onProgress: (event) => verifyEvents.push(event) });
    expect(verifyEvents).toEqual([]); // stamp hit: not re-hashed
    const error = await caught(() => resolveModel(path, { cacheDirectory, expectedSha256: '0'.repeat(64) }));
    expect(error.code).toBe('checksum-mismatch');
    expect(error.details['removed']).toBe(false);
    await access(path); // the caller's file is never deleted
  });

  it('rejects files that are not GGUF, missing files, unknown ids and non-https URLs', async () => {
    const directory = await makeTemporaryDirectory('path-bad');
    const cacheDirectory = join(directory, 'cache');
    const text = join(directory, 'notes.gguf');
    await writeFile(text, 'just text');
    expect((await caught(() => resolveModel(text, { cacheDirectory }))).code).toBe('not-gguf');
    expect((await caught(() => resolveModel(join(directory, 'absent.gguf'), { cacheDirectory }))).code).toBe(
      'model-file-missing',
    );
    expect((await caught(() => resolveModel(directory + '/', { cacheDirectory }))).code).toBe('model-file-missing');
    const unknown = await caught(() => resolveModel('llama-7b', { cacheDirectory }));
    expect(unknown.code).toBe('unknown-model');
    expect(unknown.details['knownIds']).toEqual(['smollm2-135m', 'gemma3-270m']);
    expect((await caught(() => resolveModel('http://example.com/m.gguf', { cacheDirectory }))).code).toBe(
      'url-not-https',
    );
    expect((await caught(() => resolveModel('ftp://example.com/m.gguf', { cacheDirectory }))).code).toBe(
      'url-not-https',
    );
  });
});

describe('resolveModel: https URLs', () => {
  it('streams the download into the URL cache with progress, then reuses it', async () => {
    const directory = await makeTemporaryDirectory('url');
    const cacheDirectory = join(directory, 'cache');
    const bytes = fakeGgufBytes(123_456, 5);
    const server = servingFetch(bytes);
    const url = 'https://models.example.com/files/tiny%20model.gguf?download=1';
    const events: ModelProgressEvent[] = [];
    const resolved = await resolveModel(url, {
      cacheDirectory,
      fetchImplementation: server.fetchImplementation,
      expectedSha256: sha256Hex(bytes),
      onProgress: (event) => events.push(event),
    });
    expect(resolved).toEqual({
      path: urlCachePath(cacheDirectory, url),
      sha256: sha256Hex(bytes),
      source: 'downloaded',
    });
    expect(resolved.path).toMatch(/models\/url\/[0-9a-f]{16}\/tiny_model\.gguf$/);
    expect(Buffer.compare(await readFile(resolved.path), Buffer.from(bytes))).toBe(0);
    expect(events.length).toBeGreaterThan(5);
    expect(events.at(-1)).toMatchObject({
      phase: 'download',
      completedBytes: 123_456,
      totalBytes: 123_456,
      done: true,
    });

    const again = await resolveModel(url, { cacheDirectory, fetchImplementation: server.fetchImplementation });
    expect(again.source).toBe('cache');
    expect(server.requests).toHaveLength(1);
  });

  it('leaves nothing behind on HTTP errors, truncation, non-GGUF bodies and checksum mismatches', async () => {
    const directory = await makeTemporaryDirectory('url-bad');
    const cacheDirectory = join(directory, 'cache');
    const bytes = fakeGgufBytes(30_000, 6);
    const url = 'https://models.example.com/m.gguf';
    const folder = join(urlCachePath(cacheDirectory, url), '..');
    const attempt = (fetchImplementation: FetchFunction, expectedSha256?: string): Promise<QaqError> =>
      caught(() =>
        resolveModel(url, {
          cacheDirectory,
          fetchImplementation,
          ...(expectedSha256 === undefined ? {} : { expectedSha256 }),
        }),
      );

    const notFound = await attempt(servingFetch(new Uint8Array(0), { status: 404 }).fetchImplementation);
    expect(notFound.code).toBe('download-failed');
    expect(notFound.details['status']).toBe(404);
    expect((await attempt(servingFetch(bytes, { contentLength: 40_000 }).fetchImplementation)).code).toBe(
      'download-failed',
    );
    expect((await attempt(servingFetch(new TextEncoder().encode('<html>login</html>')).fetchImplementation)).code).toBe(
      'not-gguf',
    );
    const mismatch = await attempt(servingFetch(bytes).fetchImplementation, 'a'.repeat(64));
    expect(mismatch.code).toBe('checksum-mismatch');
    expect(mismatch.details['removed']).toBe(true);
    const offline = await caught(() => resolveModel(url, { cacheDirectory, offline: true }));
    expect(offline.code).toBe('model-not-cached');
    const refused: FetchFunction = () => Promise.reject(new TypeError('fetch failed'));
    expect((await attempt(refused)).code).toBe('download-failed');
    expect(await readdir(folder)).toEqual([]);
  });
});
