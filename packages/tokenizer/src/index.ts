export type { TokenizerModelKind, TokenizerSource } from './tokenizer-source.js';
export { TokenType } from './tokenizer-source.js';
export { tokenizerSourceFromGgufMetadata } from './gguf-metadata.js';
export { createTokenizer } from './tokenizer.js';
export type { DecodeOptions, EncodeOptions, Tokenizer } from './tokenizer.js';
export type { StreamDecoder } from './stream-decoder.js';
export type { ChatMessage, ChatTemplateOptions } from './chat-template.js';
export { buildTokenizerJson } from './tokenizer-json.js';
export type { AddedTokenJson, TokenizerJson } from './tokenizer-json.js';
