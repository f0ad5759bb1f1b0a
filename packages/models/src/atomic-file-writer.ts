import { createHash, randomBytes, type Hash } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QaqError } from '@qaq/errors';
import { modelErrorCodes } from './model-errors.js';

/**
 * Writes a file next to its final path under a unique temporary name, hashing the bytes as they pass, and only
 * renames it into place once complete and verified. Readers therefore never see a partial model file, and a failed
 * or interrupted write leaves nothing behind (abort removes the temporary file).
 */
export class AtomicFileWriter {
  readonly finalPath: string;
  readonly temporaryPath: string;
  private readonly handle: FileHandle;
  private readonly hash: Hash = createHash('sha256');
  private written = 0;
  private closed = false;

  private constructor(finalPath: string, temporaryPath: string, handle: FileHandle) {
    this.finalPath = finalPath;
    this.temporaryPath = temporaryPath;
    this.handle = handle;
  }

  static async create(finalPath: string): Promise<AtomicFileWriter> {
    const temporaryPath = join(dirname(finalPath), `.${basename(finalPath)}.${randomBytes(6).toString('hex')}.partial`);
    return new AtomicFileWriter(finalPath, temporaryPath, await open(temporaryPath, 'wx'));
  }

  get bytesWritten(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset);
      offset += bytesWritten;
    }
    this.written += chunk.length;
  }

  /**
   * Flushes, checks the SHA-256 (when one is expected) and renames into place. On a mismatch the temporary file is
   * removed and `checksum-mismatch` thrown. Returns the hex digest.
   */
  async commit(expectedSha256?: string): Promise<string> {
    const digest = this.hash.digest('hex');
    try {
      await this.handle.sync();
      await this.close();
      if (expectedSha256 !== undefined && digest !== expectedSha256.toLowerCase()) {
        throw new QaqError(modelErrorCodes.checksumMismatch, `SHA-256 mismatch for ${basename(this.finalPath)}`, {
          details: { path: this.finalPath, expected: expectedSha256, actual: digest, removed: true },
        });
      }
      await rename(this.temporaryPath, this.finalPath);
      return digest;
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /** Closes and deletes the temporary file; safe to call more than once. */
  async abort(): Promise<void> {
    await this.close().catch(() => {});
    await unlink(this.temporaryPath).catch(() => {});
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}
