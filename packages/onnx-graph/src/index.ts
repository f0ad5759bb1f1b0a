export { readDecoderConfig, type DecoderArchitecture, type DecoderConfig, type LayerKind } from './decoder-config.js';
export {
  buildDecoderModel,
  DECODER_OPSETS,
  type BuildDecoderOptions,
  type DecoderModel,
} from './build-decoder.js';
export { buildDecoderSegments, type DecoderSegment, type SegmentedDecoder } from './build-segments.js';
export type { TensorDescription } from './decoder-graph.js';
export { defaultAttention, visibilityMask, type AttentionContext, type AttentionEmitter } from './attention.js';
export { affineToNBits, llamaRopeRowOrder, type NBitsWeight } from './nbits-weights.js';
export type { WeightFormat, LinearWeight, DenseWeight } from './weight-format.js';
export { GraphBuilder, type ModelOptions, type NodeOptions } from './onnx/graph-builder.js';
export { encodeModel } from './onnx/encode-model.js';
export { ProtobufWriter } from './onnx/protobuf-writer.js';
export {
  attribute,
  ONNX_DATA_TYPE,
  type Attribute,
  type Dimension,
  type ElementType,
  type ModelInit,
  type NodeInit,
  type OpsetImport,
  type TensorInit,
  type ValueInfo,
} from './onnx/onnx-types.js';
