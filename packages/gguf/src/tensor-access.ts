import { QaqError } from '@qaq/errors';
import { corruptGguf } from './gguf-errors.js';
import type { GgufFile, GgufTensorInfo } from './gguf-types.js';

/** The tensor info called `name`, or undefined. */
export function findTensor(file: GgufFile, name: string): GgufTensorInfo | undefined {
  return file.tensors.find((tensor) => tensor.name === name);
}

/**
 * A view (no copy) of a tensor's data in `bytes`, the same bytes `file` was read from (or, for a
 * headerOnly parse, a longer buffer holding the whole file).
 */
export function tensorBytes(file: GgufFile, bytes: Uint8Array, tensor: string | GgufTensorInfo): Uint8Array {
  const info = typeof tensor === 'string' ? findTensor(file, tensor) : tensor;
  if (info === undefined) {
    throw new QaqError('missing-tensor', `GGUF has no tensor ${String(tensor)}`, { details: { name: tensor } });
  }
  if (!file.tensors.includes(info)) {
    throw new QaqError('missing-tensor', `tensor ${info.name} does not belong to this GGUF file`, {
      details: { name: info.name },
    });
  }
  const end = info.byteOffset + info.byteLength;
  if (end > bytes.length || (!file.headerOnly && bytes.length !== file.byteLength)) {
    throw corruptGguf(`data of tensor ${info.name} is not within the given bytes`, {
      name: info.name,
      byteOffset: info.byteOffset,
      byteLength: info.byteLength,
      availableBytes: bytes.length,
      parsedByteLength: file.byteLength,
    });
  }
  return bytes.subarray(info.byteOffset, end);
}
