import { QaqError } from '@qaq/errors';

/** A file that breaks the GGUF format or its own counts. */
export function corruptGguf(message: string, details: Record<string, unknown>): QaqError {
  return new QaqError('corrupt-gguf', `Corrupt GGUF: ${message}`, { details });
}

/** A well-formed file this reader does not support (big-endian, unknown version or type id). */
export function unsupportedGguf(message: string, details: Record<string, unknown>): QaqError {
  return new QaqError('unsupported-gguf', `Unsupported GGUF: ${message}`, { details });
}
