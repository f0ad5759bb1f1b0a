import { open } from 'node:fs/promises';
import { QaqError } from '@qaq/errors';
import { modelErrorCodes } from './model-errors.js';

/** Every GGUF file starts with the ASCII bytes "GGUF". */
export const ggufMagic = Uint8Array.of(0x47, 0x47, 0x55, 0x46);

export function startsWithGgufMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ggufMagic.every((byte, index) => bytes[index] === byte);
}

/** Throws `model-file-missing` when `path` is not a readable file and `not-gguf` when it lacks the magic. */
export async function assertGgufFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new QaqError(modelErrorCodes.modelFileMissing, `model file not found or unreadable: ${path}`, {
      details: { path },
      cause: error,
    });
  }
  try {
    if (!(await handle.stat()).isFile()) {
      throw new QaqError(modelErrorCodes.modelFileMissing, `not a file: ${path}`, { details: { path } });
    }
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (!startsWithGgufMagic(head.subarray(0, bytesRead))) {
      throw new QaqError(modelErrorCodes.notGguf, `not a GGUF file (no "GGUF" magic): ${path}`, {
        details: { path, head: head.subarray(0, bytesRead).toString('hex') },
      });
    }
  } finally {
    await handle.close();
  }
}
