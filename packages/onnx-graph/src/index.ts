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
export type { WeightFormat, LinearWeight, DenseWeight, MatMulNBitsAccuracyLevel, NBitsOperator } from './weight-format.js';
export { MATMUL_NBITS_ACCURACY_LEVELS, checkMatMulNBitsAccuracyLevel } from './weight-format.js';
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
export {
  buildQuantizedCacheDecoder,
  type GraphTensorDescription,
  type QuantizedCacheDecoder,
  type QuantizedCacheDecoderOptions,
} from './gqa-decoder.js';
export { gqaAttention, gqaCacheLayout, gqaLargestCode, gqaLocalWindowSize, type GqaAttentionInputs, type GqaCacheBits } from './gqa-attention.js';
export {
  buildCompactAttentionGraph,
  COMPACT_ATTENTION_OPSET,
  compactAttentionInput,
  compactAttentionOutput,
  POOL_OFFSET_TABLE_LENGTH,
  type CompactAttentionGraph,
  type CompactAttentionGraphOptions,
  type CompactGroupLayout,
  type CompactKind,
  type CompactKindLayout,
  type CompactPoolField,
  type HalfPrecisionInputs,
} from './compact-attention-graph.js';
export { checkGraphOperators, listGraphOperators, type GraphOperatorUse, type OperatorProblem } from './check-graph-operators.js';
export {
  EXECUTION_PROVIDER_KERNELS,
  MAX_AUDITED_OPSET,
  ONNX_SCHEMA_VERSIONS,
  type AuditedProvider,
  type KernelRange,
  type OperatorKernels,
} from './execution-provider-kernels.js';
export { readModelOperators, type ModelNode, type ModelOperators } from './onnx/read-model-operators.js';
