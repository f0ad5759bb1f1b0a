export { readGguf } from './read-gguf.js';
export {
  GgufValueType,
  type GgufArray,
  type GgufFile,
  type GgufMetadata,
  type GgufNumberArray,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueTypeName,
  type ReadGgufOptions,
} from './gguf-types.js';
export {
  GgufTensorType,
  isGgufTensorType,
  tensorTypeInfoOrUndefined,
  tensorTypeName,
  type GgufTensorTypeInfo,
  type GgufTensorTypeName,
} from './tensor-types.js';
export {
  metadataBoolean,
  metadataBooleanOrUndefined,
  metadataNumber,
  metadataNumberArray,
  metadataNumberArrayOrUndefined,
  metadataNumberOrUndefined,
  metadataString,
  metadataStringArray,
  metadataStringArrayOrUndefined,
  metadataStringOrUndefined,
} from './metadata-getters.js';
export { findTensor, tensorBytes } from './tensor-access.js';
export { dequantize } from './dequantize.js';
export { affineLayoutOrUndefined, decodeAffineBlocks, decodeAffineBlocksInto } from './affine-blocks.js';
export type { AffineBlocks, AffineBlocksTarget, AffineLayout } from './affine-types.js';
