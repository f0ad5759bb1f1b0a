export { DecoderLanguageModel, type DecoderLanguageModelOptions } from './decoder-language-model.js';
export { DenseKeyValueStore, type DenseKeyValueStoreOptions } from './dense-key-value-store.js';
export type { KeyValueMemory, KeyValueStore } from './key-value-store.js';
export { loadDecoder, retainedTokensPerLayer, type LoadDecoderOptions, type LoadedDecoder } from './load-decoder.js';
