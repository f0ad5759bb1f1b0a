import { QaqError } from '@qaq/errors';
import { ByteCursor } from './byte-cursor.js';
import { corruptGguf, unsupportedGguf } from './gguf-errors.js';
import {
  type GgufFile,
  type GgufTensorInfo,
  type GgufValue,
  GgufValueType,
  type ReadGgufOptions,
} from './gguf-types.js';
import { readGgufString, readMetadataValue, readValueType, type ValueReadLimits } from './read-metadata-value.js';
import { tensorTypeInfoOrUndefined } from './tensor-types.js';

const magic = 0x46554747; // "GGUF" read as a little-endian uint32
const defaultAlignment = 32;
const maxDimensionCount = 4;
// name length + dimension count + one dimension + type + offset
const minimumTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
// key length + value type + a one-byte value
const minimumKeyValueBytes = 8 + 4 + 1;

/**
 * Parses a GGUF file (versions 2 and 3, little-endian). Every count, length and offset is checked
 * against the bytes before anything is allocated; every failure is a QaqError ('corrupt-gguf' or
 * 'unsupported-gguf') with the offending offset and values in `details`.
 */
export function readGguf(bytes: Uint8Array, options: ReadGgufOptions = {}): GgufFile {
  if (!(bytes instanceof Uint8Array)) {
    throw new QaqError('invalid-argument', 'readGguf expects a Uint8Array', { details: { received: typeof bytes } });
  }
  const limits = readLimits(options);
  const headerOnly = options.headerOnly ?? false;
  const cursor = new ByteCursor(bytes);

  const fileMagic = cursor.u32('magic');
  if (fileMagic !== magic) {
    throw corruptGguf('bad magic (not a GGUF file)', { offset: 0, expected: 'GGUF', actual: fileMagic.toString(16) });
  }
  const version = cursor.u32('version');
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
    if (swapped >= 1 && swapped <= 3) {
      throw unsupportedGguf('big-endian files are not supported', { offset: 4, version: swapped });
    }
    throw unsupportedGguf(`version ${version} is not supported`, { offset: 4, version, expected: [2, 3] });
  }
  const tensorCountOffset = cursor.offset;
  const tensorCount = cursor.length('tensor count', Math.floor(cursor.remaining / minimumTensorInfoBytes), minimumTensorInfoBytes);
  const keyValueCount = cursor.length('metadata count', Math.floor(cursor.remaining / minimumKeyValueBytes), minimumKeyValueBytes);
  if (tensorCount * minimumTensorInfoBytes + keyValueCount * minimumKeyValueBytes > cursor.remaining) {
    throw corruptGguf('tensor and metadata counts need more bytes than the file has', {
      offset: tensorCountOffset,
      tensorCount,
      keyValueCount,
      availableBytes: cursor.remaining,
    });
  }

  const metadata = new Map<string, GgufValue>();
  const metadataTypes = new Map<string, GgufValueType>();
  for (let index = 0; index < keyValueCount; index++) {
    const keyOffset = cursor.offset;
    const key = readGgufString(cursor, 'metadata key', limits.invalidUtf8);
    if (metadata.has(key)) throw corruptGguf(`duplicate metadata key ${key}`, { offset: keyOffset, key });
    const type = readValueType(cursor, `type of ${key}`);
    metadata.set(key, readMetadataValue(cursor, type, limits, 0, key));
    metadataTypes.set(key, type);
  }
  const alignment = readAlignment(metadata.get('general.alignment'), metadataTypes.get('general.alignment'));

  const rawTensors: RawTensor[] = [];
  const tensorNames = new Set<string>();
  for (let index = 0; index < tensorCount; index++) {
    const tensor = readTensorInfo(cursor, limits, alignment);
    if (tensorNames.has(tensor.name)) {
      throw corruptGguf(`duplicate tensor name ${tensor.name}`, { offset: tensor.infoOffset, name: tensor.name });
    }
    tensorNames.add(tensor.name);
    rawTensors.push(tensor);
  }

  const headerEnd = cursor.offset;
  const dataOffset = Math.ceil(headerEnd / alignment) * alignment;
  if (!Number.isSafeInteger(dataOffset) || (!headerOnly && tensorCount > 0 && dataOffset > bytes.length)) {
    throw corruptGguf('tensor data section starts beyond the end of the file', {
      offset: headerEnd,
      dataOffset,
      alignment,
      byteLength: bytes.length,
    });
  }
  const tensors = placeTensors(rawTensors, dataOffset, headerOnly ? Number.MAX_SAFE_INTEGER : bytes.length);

  return Object.freeze({
    version,
    metadata,
    metadataTypes,
    tensors,
    alignment,
    dataOffset,
    byteLength: bytes.length,
    headerOnly,
  });
}

interface RawTensor {
  readonly name: string;
  readonly type: GgufTensorInfo['type'];
  readonly dimensions: readonly number[];
  readonly elementCount: number;
  readonly relativeOffset: number;
  readonly byteLength: number;
  readonly infoOffset: number;
}

function readLimits(options: ReadGgufOptions): ValueReadLimits {
  const maxArrayLength = options.maxMetadataArrayLength ?? 16_777_216;
  const maxArrayNesting = options.maxArrayNesting ?? 2;
  if (!Number.isSafeInteger(maxArrayLength) || maxArrayLength < 0) {
    throw new QaqError('invalid-argument', 'maxMetadataArrayLength must be a non-negative integer', {
      details: { maxMetadataArrayLength: maxArrayLength },
    });
  }
  if (!Number.isSafeInteger(maxArrayNesting) || maxArrayNesting < 1 || maxArrayNesting > 16) {
    throw new QaqError('invalid-argument', 'maxArrayNesting must be an integer in 1..16', {
      details: { maxArrayNesting },
    });
  }
  return { maxArrayLength, maxArrayNesting, invalidUtf8: options.invalidUtf8 ?? 'error' };
}

function readAlignment(value: GgufValue | undefined, type: GgufValueType | undefined): number {
  if (value === undefined) return defaultAlignment;
  if (type !== GgufValueType.UINT32 || typeof value !== 'number') {
    throw corruptGguf('general.alignment must be a UINT32', { key: 'general.alignment', valueType: type });
  }
  // A power of two no larger than 2^30 keeps every aligned offset a safe integer.
  if (value === 0 || (value & (value - 1)) !== 0 || value > 0x4000_0000) {
    throw corruptGguf('general.alignment must be a power of two up to 2^30', { key: 'general.alignment', value });
  }
  return value;
}

function readTensorInfo(cursor: ByteCursor, limits: ValueReadLimits, alignment: number): RawTensor {
  const infoOffset = cursor.offset;
  const name = readGgufString(cursor, 'tensor name', limits.invalidUtf8);
  const dimensionCountOffset = cursor.offset;
  const dimensionCount = cursor.u32(`dimension count of ${name}`);
  if (dimensionCount < 1 || dimensionCount > maxDimensionCount) {
    throw corruptGguf(`tensor ${name} has ${dimensionCount} dimensions`, {
      offset: dimensionCountOffset,
      name,
      dimensionCount,
      expected: `1..${maxDimensionCount}`,
    });
  }
  const dimensions: number[] = [];
  let elementCount = 1;
  for (let axis = 0; axis < dimensionCount; axis++) {
    const dimensionOffset = cursor.offset;
    const dimension = cursor.u64Safe(`dimension ${axis} of ${name}`);
    elementCount *= dimension;
    if (dimension === 0 || elementCount > Number.MAX_SAFE_INTEGER) {
      throw corruptGguf(`tensor ${name} has an invalid dimension`, {
        offset: dimensionOffset,
        name,
        axis,
        dimension,
        expected: 'dimensions ≥ 1 whose product is a safe integer',
      });
    }
    dimensions.push(dimension);
  }
  const typeOffset = cursor.offset;
  const typeId = cursor.u32(`type of ${name}`);
  const typeInfo = tensorTypeInfoOrUndefined(typeId);
  if (typeInfo === undefined) {
    throw unsupportedGguf(`tensor ${name} has unknown type id ${typeId}`, { offset: typeOffset, name, typeId });
  }
  const rowLength = dimensions[0] as number;
  if (rowLength % typeInfo.blockElementCount !== 0) {
    throw corruptGguf(`tensor ${name}: row length is not a multiple of the ${typeInfo.name} block size`, {
      offset: dimensionCountOffset + 4,
      name,
      rowLength,
      blockElementCount: typeInfo.blockElementCount,
    });
  }
  const byteLength = (elementCount / typeInfo.blockElementCount) * typeInfo.blockByteLength;
  const offsetOffset = cursor.offset;
  const relativeOffset = cursor.u64Safe(`data offset of ${name}`);
  if (!Number.isSafeInteger(byteLength) || relativeOffset % alignment !== 0) {
    throw corruptGguf(`tensor ${name} has a misaligned offset or an oversized byte length`, {
      offset: offsetOffset,
      name,
      relativeOffset,
      alignment,
      byteLength,
    });
  }
  return { name, type: typeInfo.type, dimensions: Object.freeze(dimensions), elementCount, relativeOffset, byteLength, infoOffset };
}

/** Makes offsets absolute and checks that every range lies in [dataOffset, end) without overlaps. */
function placeTensors(rawTensors: readonly RawTensor[], dataOffset: number, end: number): readonly GgufTensorInfo[] {
  const tensors = rawTensors.map((raw): GgufTensorInfo => {
    const byteOffset = dataOffset + raw.relativeOffset;
    const byteEnd = byteOffset + raw.byteLength;
    if (!Number.isSafeInteger(byteEnd) || byteEnd > end) {
      throw corruptGguf(`tensor ${raw.name} data lies beyond the end of the file`, {
        offset: raw.infoOffset,
        name: raw.name,
        byteOffset,
        byteLength: raw.byteLength,
        fileByteLength: end,
      });
    }
    return Object.freeze({
      name: raw.name,
      type: raw.type,
      dimensions: raw.dimensions,
      elementCount: raw.elementCount,
      byteOffset,
      byteLength: raw.byteLength,
    });
  });
  const byStart = [...tensors].sort((left, right) => left.byteOffset - right.byteOffset);
  for (let index = 1; index < byStart.length; index++) {
    const previous = byStart[index - 1] as GgufTensorInfo;
    const current = byStart[index] as GgufTensorInfo;
    if (current.byteOffset < previous.byteOffset + previous.byteLength) {
      throw corruptGguf(`tensors ${previous.name} and ${current.name} overlap`, {
        first: previous.name,
        firstRange: [previous.byteOffset, previous.byteOffset + previous.byteLength],
        second: current.name,
        secondStart: current.byteOffset,
      });
    }
  }
  return Object.freeze(tensors);
}
