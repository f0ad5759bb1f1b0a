import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixturesDirectory = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function readFixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(fixturesDirectory, name)));
}

export function readFixtureJson<T>(name: string): T {
  return JSON.parse(readFileSync(join(fixturesDirectory, name), 'utf8')) as T;
}

export function base64Bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Float32 values of a little-endian base64 fixture, copied so the buffer is aligned. */
export function base64Floats(text: string): Float32Array {
  const bytes = base64Bytes(text);
  const values = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let index = 0; index < values.length; index++) values[index] = view.getFloat32(index * 4, true);
  return values;
}

export interface BlockFixtureEntry {
  readonly tensor: string;
  readonly type: number;
  readonly typeName: string;
  readonly elementOffset: number;
  readonly elementCount: number;
  readonly raw: string;
  readonly expected: string;
}

export interface BlockFixture {
  readonly model: string;
  readonly entries: readonly BlockFixtureEntry[];
}

export interface HeaderFixtureMetadata {
  readonly type: number;
  readonly value?: string | number | boolean;
  readonly elementType?: number;
  readonly length?: number;
  readonly first?: readonly (string | number | boolean)[];
  readonly last?: string | number | boolean | null;
}

export interface HeaderFixtureTensor {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly dimensions: readonly number[];
  readonly elementCount: number;
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface HeaderFixture {
  readonly version: number;
  readonly alignment: number;
  readonly dataOffset: number;
  readonly metadata: Readonly<Record<string, HeaderFixtureMetadata>>;
  readonly tensors: readonly HeaderFixtureTensor[];
}

export const realModels = [
  { id: 'smollm2', path: 'models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf' },
  { id: 'gemma3', path: 'models/gemma3-270m/gemma-3-270m-q4_k_m.gguf' },
] as const;

function cacheDirectory(): string {
  const explicit = process.env['QAQ_CACHE_DIR'];
  if (explicit) return explicit;
  return join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'qaq');
}

/** The absolute path of a real model file, or undefined (with the reason) when it is missing. */
export function realModelPath(relativePath: string): string | undefined {
  const path = join(cacheDirectory(), relativePath);
  if (existsSync(path)) return path;
  console.warn(`skipping real-model test: ${path} is missing (fetch it with \`pnpm qaq models fetch\`)`);
  return undefined;
}
