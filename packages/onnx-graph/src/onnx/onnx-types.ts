/** ONNX TensorProto.DataType codes for the element types this package emits. */
export const ONNX_DATA_TYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  /** 4-bit unsigned (opset 21+), two per byte, the even element in the low nibble. */
  uint4: 21,
} as const;

export type ElementType = keyof typeof ONNX_DATA_TYPE;

/** A dimension is a fixed size or a symbolic name such as "sequence". */
export type Dimension = number | string;

export interface ValueInfo {
  readonly name: string;
  readonly elementType: ElementType;
  readonly shape: readonly Dimension[];
}

/** An initializer; `data` is its little-endian raw bytes (ONNX raw_data). */
export interface TensorInit {
  readonly name: string;
  readonly elementType: ElementType;
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

export type Attribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'tensor'; readonly value: TensorInit };

export interface NodeInit {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, Attribute>>;
}

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

export interface ModelInit {
  readonly irVersion: number;
  readonly opsetImports: readonly OpsetImport[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly graphName: string;
  readonly nodes: readonly NodeInit[];
  readonly initializers: readonly TensorInit[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly metadata: Readonly<Record<string, string>>;
}

export const attribute = {
  int: (value: number): Attribute => ({ kind: 'int', value }),
  float: (value: number): Attribute => ({ kind: 'float', value }),
  string: (value: string): Attribute => ({ kind: 'string', value }),
  ints: (value: readonly number[]): Attribute => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): Attribute => ({ kind: 'floats', value }),
  tensor: (value: TensorInit): Attribute => ({ kind: 'tensor', value }),
};
