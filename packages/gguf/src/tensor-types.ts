/**
 * ggml tensor type ids as stored in GGUF tensor infos, with their block geometry
 * (elements per block, bytes per block). Ids missing here (4, 5, 31..33, 36..38) were
 * removed from ggml; a file using them, or any id not listed, is 'unsupported-gguf'.
 */
export const GgufTensorType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
} as const;

export type GgufTensorTypeName = keyof typeof GgufTensorType;
export type GgufTensorType = (typeof GgufTensorType)[GgufTensorTypeName];

export interface GgufTensorTypeInfo {
  readonly type: GgufTensorType;
  readonly name: GgufTensorTypeName;
  /** Elements sharing one block (1 for plain element types). */
  readonly blockElementCount: number;
  /** Bytes of one block. */
  readonly blockByteLength: number;
}

// Geometry from ggml's type traits (gguf-py GGML_QUANT_SIZES), indexed by name.
const geometry: Readonly<Record<GgufTensorTypeName, readonly [number, number]>> = {
  F32: [1, 4],
  F16: [1, 2],
  Q4_0: [32, 18],
  Q4_1: [32, 20],
  Q5_0: [32, 22],
  Q5_1: [32, 24],
  Q8_0: [32, 34],
  Q8_1: [32, 40],
  Q2_K: [256, 84],
  Q3_K: [256, 110],
  Q4_K: [256, 144],
  Q5_K: [256, 176],
  Q6_K: [256, 210],
  Q8_K: [256, 292],
  IQ2_XXS: [256, 66],
  IQ2_XS: [256, 74],
  IQ3_XXS: [256, 98],
  IQ1_S: [256, 50],
  IQ4_NL: [32, 18],
  IQ3_S: [256, 110],
  IQ2_S: [256, 82],
  IQ4_XS: [256, 136],
  I8: [1, 1],
  I16: [1, 2],
  I32: [1, 4],
  I64: [1, 8],
  F64: [1, 8],
  IQ1_M: [256, 56],
  BF16: [1, 2],
  TQ1_0: [256, 54],
  TQ2_0: [256, 66],
  MXFP4: [32, 17],
  NVFP4: [64, 36],
  Q1_0: [128, 18],
};

const infoById = new Map<number, GgufTensorTypeInfo>();
for (const name of Object.keys(GgufTensorType) as GgufTensorTypeName[]) {
  const [blockElementCount, blockByteLength] = geometry[name];
  const type = GgufTensorType[name];
  infoById.set(type, Object.freeze({ type, name, blockElementCount, blockByteLength }));
}

/** The geometry of a known type id, or undefined for ids ggml does not define (or removed). */
export function tensorTypeInfoOrUndefined(typeId: number): GgufTensorTypeInfo | undefined {
  return infoById.get(typeId);
}

/** True when `typeId` is a tensor type id this package knows. */
export function isGgufTensorType(typeId: number): typeId is GgufTensorType {
  return infoById.has(typeId);
}

/** The name of a type id, or `unknown(<id>)`. */
export function tensorTypeName(typeId: number): string {
  return infoById.get(typeId)?.name ?? `unknown(${typeId})`;
}
