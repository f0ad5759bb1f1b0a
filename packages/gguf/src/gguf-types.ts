import type { GgufTensorType } from './tensor-types.js';

/** GGUF metadata value type ids (gguf_type in ggml). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueTypeName = keyof typeof GgufValueType;
export type GgufValueType = (typeof GgufValueType)[GgufValueTypeName];

/** Numeric metadata arrays whose elements fit a JS number. */
export type GgufNumberArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/**
 * A metadata array: a typed array for numeric element types (64-bit integers as BigUint64Array /
 * BigInt64Array), string[] for strings, boolean[] for booleans, and nested arrays as GgufArray[].
 */
export type GgufArray =
  | GgufNumberArray
  | BigUint64Array
  | BigInt64Array
  | readonly string[]
  | readonly boolean[]
  | readonly GgufArray[];

/**
 * A metadata value. 8..32-bit integers and floats are numbers; UINT64 / INT64 are bigints
 * (use `metadataNumber` to get a number when it is a safe integer).
 */
export type GgufValue = number | bigint | boolean | string | GgufArray;

export type GgufMetadata = ReadonlyMap<string, GgufValue>;

export interface GgufTensorInfo {
  readonly name: string;
  readonly type: GgufTensorType;
  /** GGUF order: dimensions[0] is the fastest-varying (columns, ne[0] in ggml). 1 to 4 entries. */
  readonly dimensions: readonly number[];
  readonly elementCount: number;
  /** Absolute byte offset of the tensor's data in the file. */
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface GgufFile {
  /** 2 or 3. */
  readonly version: number;
  readonly metadata: GgufMetadata;
  /** The stored value type of each metadata key (e.g. to tell UINT32 from INT32). */
  readonly metadataTypes: ReadonlyMap<string, GgufValueType>;
  readonly tensors: readonly GgufTensorInfo[];
  /** general.alignment, or 32. */
  readonly alignment: number;
  /** Absolute offset of the tensor data section (end of the tensor infos, aligned). */
  readonly dataOffset: number;
  /** Length of the bytes that were parsed. */
  readonly byteLength: number;
  /** True when parsed with `headerOnly`: tensor data may lie beyond `byteLength`. */
  readonly headerOnly: boolean;
}

export interface ReadGgufOptions {
  /** Largest accepted metadata array length (default 16,777,216). */
  readonly maxMetadataArrayLength?: number;
  /** Deepest accepted nesting of arrays in arrays (default 2: an array of arrays of scalars). */
  readonly maxArrayNesting?: number;
  /**
   * Parse a prefix of a file (header, metadata, tensor infos): tensor data ranges are then not
   * required to lie within `bytes` (they are still checked for overflow and overlap).
   */
  readonly headerOnly?: boolean;
  /** Invalid UTF-8 in strings: 'error' (default) rejects the file, 'replace' uses U+FFFD. */
  readonly invalidUtf8?: 'error' | 'replace';
}
