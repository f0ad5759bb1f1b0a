import { ByteCursor } from './byte-cursor.js';
import { corruptGguf } from './gguf-errors.js';
import { type GgufArray, type GgufValue, GgufValueType } from './gguf-types.js';
import { decodeUtf8 } from './utf8.js';

export interface ValueReadLimits {
  readonly maxArrayLength: number;
  readonly maxArrayNesting: number;
  readonly invalidUtf8: 'error' | 'replace';
}

/** Fewest bytes one value of each type occupies; bounds array lengths before allocation. */
function minimumValueBytes(type: number): number | undefined {
  switch (type) {
    case GgufValueType.UINT8:
    case GgufValueType.INT8:
    case GgufValueType.BOOL:
      return 1;
    case GgufValueType.UINT16:
    case GgufValueType.INT16:
      return 2;
    case GgufValueType.UINT32:
    case GgufValueType.INT32:
    case GgufValueType.FLOAT32:
      return 4;
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
    case GgufValueType.FLOAT64:
    case GgufValueType.STRING: // its uint64 length
      return 8;
    case GgufValueType.ARRAY: // element type + count
      return 12;
    default:
      return undefined;
  }
}

export function readGgufString(cursor: ByteCursor, what: string, invalidUtf8: 'error' | 'replace'): string {
  const length = cursor.length(`${what} length`, cursor.remaining - 8, 1);
  const start = cursor.offset;
  return decodeUtf8(cursor.take(length, what), invalidUtf8, start);
}

export function readValueType(cursor: ByteCursor, what: string): GgufValueType {
  const start = cursor.offset;
  const type = cursor.u32(what);
  if (minimumValueBytes(type) === undefined) {
    throw corruptGguf(`unknown value type ${type} for ${what}`, { offset: start, valueType: type, expected: '0..12' });
  }
  return type as GgufValueType;
}

export function readMetadataValue(
  cursor: ByteCursor,
  type: GgufValueType,
  limits: ValueReadLimits,
  depth: number,
  key: string,
): GgufValue {
  const view = cursor.view;
  switch (type) {
    case GgufValueType.UINT8:
      return cursor.u8(key);
    case GgufValueType.INT8:
      cursor.require(1, key);
      cursor.offset += 1;
      return view.getInt8(cursor.offset - 1);
    case GgufValueType.UINT16:
      cursor.require(2, key);
      cursor.offset += 2;
      return view.getUint16(cursor.offset - 2, true);
    case GgufValueType.INT16:
      cursor.require(2, key);
      cursor.offset += 2;
      return view.getInt16(cursor.offset - 2, true);
    case GgufValueType.UINT32:
      return cursor.u32(key);
    case GgufValueType.INT32:
      cursor.require(4, key);
      cursor.offset += 4;
      return view.getInt32(cursor.offset - 4, true);
    case GgufValueType.FLOAT32:
      cursor.require(4, key);
      cursor.offset += 4;
      return view.getFloat32(cursor.offset - 4, true);
    case GgufValueType.UINT64:
      cursor.require(8, key);
      cursor.offset += 8;
      return view.getBigUint64(cursor.offset - 8, true);
    case GgufValueType.INT64:
      cursor.require(8, key);
      cursor.offset += 8;
      return view.getBigInt64(cursor.offset - 8, true);
    case GgufValueType.FLOAT64:
      cursor.require(8, key);
      cursor.offset += 8;
      return view.getFloat64(cursor.offset - 8, true);
    case GgufValueType.BOOL: {
      const start = cursor.offset;
      const byte = cursor.u8(key);
      if (byte > 1) throw corruptGguf(`boolean ${key} is neither 0 nor 1`, { offset: start, key, value: byte });
      return byte === 1;
    }
    case GgufValueType.STRING:
      return readGgufString(cursor, key, limits.invalidUtf8);
    case GgufValueType.ARRAY:
      return readArray(cursor, limits, depth + 1, key);
  }
}

function readArray(cursor: ByteCursor, limits: ValueReadLimits, depth: number, key: string): GgufArray {
  const start = cursor.offset;
  if (depth > limits.maxArrayNesting) {
    throw corruptGguf(`arrays nested deeper than ${limits.maxArrayNesting} in ${key}`, { offset: start, key, depth });
  }
  const elementType = readValueType(cursor, `${key} element type`);
  const elementBytes = minimumValueBytes(elementType) as number;
  const countOffset = cursor.offset;
  const count = cursor.length(`${key} array length`, Math.floor((cursor.remaining - 8) / elementBytes), elementBytes);
  if (count > limits.maxArrayLength) {
    throw corruptGguf(`array ${key} is longer than maxMetadataArrayLength`, {
      offset: countOffset,
      key,
      length: count,
      maxMetadataArrayLength: limits.maxArrayLength,
    });
  }
  // The length check above guarantees count * elementBytes bytes for fixed-size types.
  const view = cursor.view;
  const base = cursor.offset;
  switch (elementType) {
    case GgufValueType.UINT8: {
      const values = cursor.take(count, key).slice();
      return values;
    }
    case GgufValueType.INT8: {
      const bytes = cursor.take(count, key);
      return new Int8Array(bytes.slice().buffer);
    }
    case GgufValueType.UINT16:
      cursor.offset += count * 2;
      return fill(new Uint16Array(count), (index) => view.getUint16(base + index * 2, true));
    case GgufValueType.INT16:
      cursor.offset += count * 2;
      return fill(new Int16Array(count), (index) => view.getInt16(base + index * 2, true));
    case GgufValueType.UINT32:
      cursor.offset += count * 4;
      return fill(new Uint32Array(count), (index) => view.getUint32(base + index * 4, true));
    case GgufValueType.INT32:
      cursor.offset += count * 4;
      return fill(new Int32Array(count), (index) => view.getInt32(base + index * 4, true));
    case GgufValueType.FLOAT32:
      cursor.offset += count * 4;
      return fill(new Float32Array(count), (index) => view.getFloat32(base + index * 4, true));
    case GgufValueType.FLOAT64:
      cursor.offset += count * 8;
      return fill(new Float64Array(count), (index) => view.getFloat64(base + index * 8, true));
    case GgufValueType.UINT64: {
      cursor.offset += count * 8;
      const values = new BigUint64Array(count);
      for (let index = 0; index < count; index++) values[index] = view.getBigUint64(base + index * 8, true);
      return values;
    }
    case GgufValueType.INT64: {
      cursor.offset += count * 8;
      const values = new BigInt64Array(count);
      for (let index = 0; index < count; index++) values[index] = view.getBigInt64(base + index * 8, true);
      return values;
    }
    case GgufValueType.BOOL: {
      const bytes = cursor.take(count, key);
      const values: boolean[] = [];
      for (let index = 0; index < count; index++) {
        const byte = bytes[index] as number;
        if (byte > 1) {
          throw corruptGguf(`boolean in ${key} is neither 0 nor 1`, { offset: base + index, key, value: byte });
        }
        values.push(byte === 1);
      }
      return values;
    }
    case GgufValueType.STRING: {
      // Grown element by element: each string's length is checked against the bytes left.
      const values: string[] = [];
      for (let index = 0; index < count; index++) values.push(readGgufString(cursor, key, limits.invalidUtf8));
      return values;
    }
    case GgufValueType.ARRAY: {
      const values: GgufArray[] = [];
      for (let index = 0; index < count; index++) {
        const innerType = GgufValueType.ARRAY;
        values.push(readMetadataValue(cursor, innerType, limits, depth, key) as GgufArray);
      }
      return values;
    }
  }
}

function fill<T extends { [index: number]: number; readonly length: number }>(
  values: T,
  read: (index: number) => number,
): T {
  for (let index = 0; index < values.length; index++) values[index] = read(index);
  return values;
}
