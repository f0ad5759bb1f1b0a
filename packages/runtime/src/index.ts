export { DecoderLanguageModel, type DecoderLanguageModelOptions } from './decoder-language-model.js';
export { DenseKeyValueStore, type DenseKeyValueStoreOptions } from './dense-key-value-store.js';
export type { KeyValueMemory, KeyValueStore } from './key-value-store.js';
export { loadDecoder, retainedTokensPerLayer, type LoadDecoderOptions, type LoadedDecoder } from './load-decoder.js';
export {
  CompactCacheAttention,
  type CacheAttentionKernel,
  type CompactCacheAttentionOptions,
  type CompactCacheMode,
} from './compact-cache-attention.js';
export { GraphAttentionKernel, halfPrecisionInputsFor, type GraphAttentionKernelOptions } from './graph-attention-kernel.js';
export { widenFloat16 } from './float16-widening.js';
export { createCacheAttentionKernel, type AttentionStrategyName, type AttentionStrategyOptions } from './attention-strategy.js';
export { memoryFromAccounting } from './cache-memory.js';
export { KiviAttention, type KiviAttentionOptions } from './kivi-attention.js';
export { KeyValueCenteringState, keyValueCenterings, type KeyValueCentering } from './key-value-centering.js';
export { ChannelScaling, channelScalingCalibrationTokens, type AppendWidths, type ChannelScalingSides, type StoredRotations } from './channel-scaling.js';
export {
  defaultQaqPreset,
  formatKvMethod,
  kvMethodSyntax,
  parseKvMethod,
  qaqPresetSettings,
  usesAttentionKernel,
  validateQaqSettings,
  keyValueRotations,
  type KeyValueRotation,
  type KvMethod,
  type LayerKindSettings,
  type QaqSettings,
} from './kv-method.js';
export type { LayerAttention, LayerAttentionShape } from './layer-attention.js';
export {
  createLayerAttention,
  loadLanguageModel,
  loadSegmentedModel,
  type LoadSegmentedModelOptions,
  type LoadedLanguageModel,
  type LoadLanguageModelOptions,
  type RuntimeLanguageModel,
} from './load-language-model.js';
export { layerAttentionShape, SegmentedLanguageModel, type SegmentedLanguageModelOptions } from './segmented-language-model.js';
export { defaultScaleMargin, OrtQuantizedLanguageModel, type KvChannelScales, type OrtQuantizedLanguageModelOptions } from './ort-quantized-language-model.js';
export { loadOrtQuantizedModel, type LoadedOrtQuantizedModel, type LoadOrtQuantizedModelOptions } from './ort-load-quantized-model.js';
