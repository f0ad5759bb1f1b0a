import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { QaqError } from '@qaq/errors';
import { AtomicFileWriter } from './atomic-file-writer.js';
import { startsWithGgufMagic } from './gguf-magic.js';
import { modelErrorCodes } from './model-errors.js';
import type { ModelProgressListener } from './progress.js';

export type FetchFunction = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

export interface DownloadOptions {
  readonly fetchImplementation?: FetchFunction;
  readonly onProgress?: ModelProgressListener;
  readonly signal?: AbortSignal;
  readonly expectedSha256?: string;
}

/** Refuses anything but https (models are code-adjacent: no plain-http downloads). */
export function assertHttpsUrl(reference: string): URL {
  let url: URL;
  try {
    url = new URL(reference);
  } catch (error) {
    throw new QaqError(modelErrorCodes.urlNotHttps, `not a valid URL: ${reference}`, {
      details: { url: reference },
      cause: error,
    });
  }
  if (url.protocol !== 'https:') {
    throw new QaqError(modelErrorCodes.urlNotHttps, `only https URLs are accepted, got ${url.protocol}`, {
      details: { url: reference },
    });
  }
  return url;
}

/**
 * Streams a GGUF file from an https URL into a temporary file next to `finalPath` (hashing as it goes), checks the
 * GGUF magic and the optional SHA-256, then renames it into place. Returns the SHA-256.
 */
export async function downloadHttpsFile(
  url: string,
  finalPath: string,
  options: DownloadOptions = {},
): Promise<string> {
  assertHttpsUrl(url);
  const fetchFunction: FetchFunction = options.fetchImplementation ?? ((target, init) => fetch(target, init));
  const label = decodeURIComponent(new URL(url).pathname.split('/').pop() || url);
  let response: Response;
  try {
    response = await fetchFunction(url, options.signal === undefined ? {} : { signal: options.signal });
  } catch (error) {
    throw downloadFailed(url, `request failed: ${(error as Error).message}`, error);
  }
  if (!response.ok || response.body === null) {
    throw downloadFailed(url, `HTTP ${response.status} ${response.statusText}`.trim(), undefined, response.status);
  }
  const lengthHeader = response.headers.get('content-length');
  const totalBytes = lengthHeader === null ? undefined : Number(lengthHeader);
  await mkdir(dirname(finalPath), { recursive: true });
  const writer = await AtomicFileWriter.create(finalPath);
  try {
    const head = new Uint8Array(4);
    let headLength = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (headLength < 4) {
          const take = Math.min(4 - headLength, chunk.length);
          head.set(chunk.subarray(0, take), headLength);
          headLength += take;
        }
        await writer.write(chunk);
        options.onProgress?.({ phase: 'download', label, completedBytes: writer.bytesWritten, totalBytes });
      }
    } catch (error) {
      if (options.signal?.aborted) {
        throw new QaqError(modelErrorCodes.aborted, 'download aborted', { details: { url }, cause: error });
      }
      throw downloadFailed(url, `stream failed after ${writer.bytesWritten} bytes`, error);
    }
    options.onProgress?.({ phase: 'download', label, completedBytes: writer.bytesWritten, totalBytes, done: true });
    if (totalBytes !== undefined && Number.isFinite(totalBytes) && writer.bytesWritten !== totalBytes) {
      throw downloadFailed(url, `truncated: ${writer.bytesWritten} of ${totalBytes} bytes`);
    }
    if (!startsWithGgufMagic(head.subarray(0, headLength))) {
      throw new QaqError(modelErrorCodes.notGguf, `downloaded file is not GGUF: ${url}`, {
        details: { url, head: Buffer.from(head.subarray(0, headLength)).toString('hex') },
      });
    }
    return await writer.commit(options.expectedSha256);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

function downloadFailed(url: string, reason: string, cause?: unknown, status?: number): QaqError {
  return new QaqError(modelErrorCodes.downloadFailed, `download of ${url} failed: ${reason}`, {
    details: { url, reason, ...(status === undefined ? {} : { status }) },
    ...(cause === undefined ? {} : { cause }),
  });
}
