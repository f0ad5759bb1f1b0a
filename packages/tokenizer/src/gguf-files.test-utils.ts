/// <reference types="node" />
// Test-only: finds the real model files and reads their GGUF metadata with @qaq/gguf. Not part of the published build.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readGguf } from '@qaq/gguf';

export const modelFiles = {
  'smollm2-135m': 'models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf',
  'gemma3-270m': 'models/gemma3-270m/gemma-3-270m-q4_k_m.gguf',
} as const;
export type ModelName = keyof typeof modelFiles;

export function modelPath(model: ModelName): string {
  const cacheDir =
    process.env['QAQ_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'qaq');
  return join(cacheDir, modelFiles[model]);
}

export function modelAvailable(model: ModelName): boolean {
  const available = existsSync(modelPath(model));
  if (!available) console.warn(`[tokenizer] skipping ${model}: ${modelPath(model)} is missing (pnpm qaq models fetch)`);
  return available;
}

const metadataCache = new Map<string, ReadonlyMap<string, unknown>>();

/** The GGUF metadata of a file through @qaq/gguf, reading only the header region (the tokenizer lives there). */
export function readGgufMetadata(path: string): ReadonlyMap<string, unknown> {
  const cached = metadataCache.get(path);
  if (cached !== undefined) return cached;
  const file = openSync(path, 'r');
  try {
    const bytes = new Uint8Array(32 << 20);
    const read = readSync(file, bytes, 0, bytes.length, 0);
    const { metadata } = readGguf(bytes.subarray(0, read), { headerOnly: true });
    metadataCache.set(path, metadata);
    return metadata;
  } finally {
    closeSync(file);
  }
}
