import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ModelProgressListener } from './progress.js';

/** SHA-256 of a file, streamed (constant memory), as lowercase hex. */
export async function sha256OfFile(
  path: string,
  onProgress?: ModelProgressListener,
  label: string = path,
): Promise<string> {
  const totalBytes = onProgress === undefined ? undefined : (await stat(path)).size;
  const hash = createHash('sha256');
  let completedBytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    completedBytes += chunk.length;
    onProgress?.({ phase: 'verify', label, completedBytes, totalBytes });
  }
  onProgress?.({ phase: 'verify', label, completedBytes, totalBytes, done: true });
  return hash.digest('hex');
}
