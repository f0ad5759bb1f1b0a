import { QaqError } from '@qaq/errors';
import type { GgufFile, GgufTensorInfo } from '@qaq/gguf';

/** Metadata and tensor look-ups on a parsed GGUF, with QaqErrors that name the missing key. */
export function metadataNumber(file: GgufFile, key: string): number | undefined {
  const value = file.metadata.get(key);
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new QaqError('invalid-gguf-metadata', `metadata ${key} is not a number`, { details: { key } });
}

export function requiredNumber(file: GgufFile, key: string): number {
  const value = metadataNumber(file, key);
  if (value === undefined) {
    throw new QaqError('missing-gguf-metadata', `GGUF metadata ${key} is missing`, { details: { key } });
  }
  return value;
}

export function metadataString(file: GgufFile, key: string): string | undefined {
  const value = file.metadata.get(key);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw new QaqError('invalid-gguf-metadata', `metadata ${key} is not a string`, { details: { key } });
}

/** Length of a metadata array (e.g. tokenizer.ggml.tokens), or undefined when absent. */
export function metadataArrayLength(file: GgufFile, key: string): number | undefined {
  const value = file.metadata.get(key);
  if (value === undefined || typeof value !== 'object') return undefined;
  return value.length;
}

export function findTensor(file: GgufFile, name: string): GgufTensorInfo | undefined {
  return file.tensors.find((tensor) => tensor.name === name);
}

export function requireTensor(file: GgufFile, name: string): GgufTensorInfo {
  const tensor = findTensor(file, name);
  if (tensor === undefined) {
    throw new QaqError('missing-gguf-tensor', `GGUF tensor ${name} is missing`, { details: { name } });
  }
  return tensor;
}
