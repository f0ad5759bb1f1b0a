import { QaqError } from '@qaq/errors';
import type { GgufFile, GgufNumberArray, GgufValue } from './gguf-types.js';

function describe(value: GgufValue): string {
  if (Array.isArray(value)) return 'array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

function wrongType(key: string, expected: string, value: GgufValue): QaqError {
  return new QaqError('wrong-metadata-type', `GGUF metadata ${key} is a ${describe(value)}, expected ${expected}`, {
    details: { key, expected, actual: describe(value) },
  });
}

function required<T>(file: GgufFile, key: string, read: (file: GgufFile, key: string) => T | undefined): T {
  const value = read(file, key);
  if (value === undefined) {
    throw new QaqError('missing-metadata', `GGUF metadata ${key} is missing`, { details: { key } });
  }
  return value;
}

export function metadataStringOrUndefined(file: GgufFile, key: string): string | undefined {
  const value = file.metadata.get(key);
  if (value === undefined || typeof value === 'string') return value;
  throw wrongType(key, 'string', value);
}

/** A number; UINT64 / INT64 values are accepted when they are safe integers. */
export function metadataNumberOrUndefined(file: GgufFile, key: string): number | undefined {
  const value = file.metadata.get(key);
  if (value === undefined || typeof value === 'number') return value;
  if (typeof value === 'bigint') {
    if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(value);
    throw new QaqError('wrong-metadata-type', `GGUF metadata ${key} is not a safe integer`, {
      details: { key, value: value.toString() },
    });
  }
  throw wrongType(key, 'number', value);
}

export function metadataBooleanOrUndefined(file: GgufFile, key: string): boolean | undefined {
  const value = file.metadata.get(key);
  if (value === undefined || typeof value === 'boolean') return value;
  throw wrongType(key, 'boolean', value);
}

export function metadataStringArrayOrUndefined(file: GgufFile, key: string): readonly string[] | undefined {
  const value = file.metadata.get(key);
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((element) => typeof element === 'string')) return value as readonly string[];
  throw wrongType(key, 'string array', value);
}

/**
 * A numeric array as its typed array (no copy). 64-bit integer arrays become a Float64Array when
 * every element is a safe integer.
 */
export function metadataNumberArrayOrUndefined(file: GgufFile, key: string): GgufNumberArray | undefined {
  const value = file.metadata.get(key);
  if (value === undefined) return undefined;
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
    const numbers = new Float64Array(value.length);
    for (let index = 0; index < value.length; index++) {
      const element = value[index] as bigint;
      if (element > BigInt(Number.MAX_SAFE_INTEGER) || element < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new QaqError('wrong-metadata-type', `GGUF metadata ${key} has an element beyond safe integers`, {
          details: { key, index, value: element.toString() },
        });
      }
      numbers[index] = Number(element);
    }
    return numbers;
  }
  if (ArrayBuffer.isView(value)) return value;
  throw wrongType(key, 'number array', value);
}

export function metadataString(file: GgufFile, key: string): string {
  return required(file, key, metadataStringOrUndefined);
}
export function metadataNumber(file: GgufFile, key: string): number {
  return required(file, key, metadataNumberOrUndefined);
}
export function metadataBoolean(file: GgufFile, key: string): boolean {
  return required(file, key, metadataBooleanOrUndefined);
}
export function metadataStringArray(file: GgufFile, key: string): readonly string[] {
  return required(file, key, metadataStringArrayOrUndefined);
}
export function metadataNumberArray(file: GgufFile, key: string): GgufNumberArray {
  return required(file, key, metadataNumberArrayOrUndefined);
}
