/// <reference types="node" />
import { closeSync, openSync, readSync } from 'node:fs';
import { readGguf } from '@qaq/gguf';
import { describe, expect, it } from 'vitest';
import { modelFixture, sampleTextFixture } from './fixtures.test-utils.js';
import { modelAvailable, modelPath } from './gguf-files.test-utils.js';
import { tokenizerSourceFromGgufMetadata } from './gguf-metadata.js';
import { createTokenizer } from './tokenizer.js';

function readHeaderBytes(path: string, byteCount: number): Uint8Array {
  const file = openSync(path, 'r');
  try {
    const bytes = new Uint8Array(byteCount);
    const read = readSync(file, bytes, 0, byteCount, 0);
    return bytes.subarray(0, read);
  } finally {
    closeSync(file);
  }
}

describe('metadata from @qaq/gguf', () => {
  it.runIf(modelAvailable('gemma3-270m'))('builds the same Gemma 3 tokenizer as the reference ids expect', () => {
    const { metadata } = readGguf(readHeaderBytes(modelPath('gemma3-270m'), 32 << 20), { headerOnly: true });
    const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(metadata));
    expect(Array.from(tokenizer.encode(sampleTextFixture().sample))).toEqual(
      modelFixture('gemma3-270m').sample.idsWithSpecialTokens,
    );
  });

  it.runIf(modelAvailable('smollm2-135m'))('builds the same SmolLM2 tokenizer as the reference ids expect', () => {
    const { metadata } = readGguf(readHeaderBytes(modelPath('smollm2-135m'), 8 << 20), { headerOnly: true });
    const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(metadata));
    expect(Array.from(tokenizer.encode(sampleTextFixture().sample))).toEqual(
      modelFixture('smollm2-135m').sample.idsWithSpecialTokens,
    );
  });
});
