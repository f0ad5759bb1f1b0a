import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The user model cache: $QAQ_CACHE_DIR, else $XDG_CACHE_HOME/qaq, else ~/.cache/qaq. */
export function modelCacheDirectory(): string {
  const explicit = process.env['QAQ_CACHE_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'qaq');
}

export const MODEL_FILES = {
  smollm2: 'models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf',
  gemma3: 'models/gemma3-270m/gemma-3-270m-q4_k_m.gguf',
} as const;

export type ModelName = keyof typeof MODEL_FILES;

export function modelPath(name: ModelName): string {
  return join(modelCacheDirectory(), MODEL_FILES[name]);
}

export function modelAvailable(name: ModelName): boolean {
  const available = existsSync(modelPath(name));
  if (!available) console.warn(`skipping ${name} tests: ${modelPath(name)} is missing (run \`pnpm qaq models fetch\`)`);
  return available;
}

export function readModelBytes(name: ModelName): Uint8Array {
  const buffer = readFileSync(modelPath(name));
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export const heavyTests = process.env['QAQ_HEAVY_TESTS'] === '1';
