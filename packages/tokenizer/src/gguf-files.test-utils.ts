/// <reference types="node" />
// Test-only: finds the real model files and reads their GGUF metadata (key/value section only), so the tests
// do not depend on another package's reader. Not part of the published build.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

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

const metadataCache = new Map<string, Map<string, unknown>>();

/** The GGUF metadata of a file, read incrementally so only the header is loaded. */
export function readGgufMetadata(path: string): Map<string, unknown> {
  const cached = metadataCache.get(path);
  if (cached !== undefined) return cached;
  const file = openSync(path, 'r');
  try {
    const metadata = new MetadataReader(file).read();
    metadataCache.set(path, metadata);
    return metadata;
  } finally {
    closeSync(file);
  }
}

class MetadataReader {
  private buffer = new Uint8Array(0);
  private view = new DataView(this.buffer.buffer);
  private offset = 0;
  // ignoreBOM: Gemma has tokens that start with U+FEFF, which a default TextDecoder would strip.
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(private readonly file: number) {}

  read(): Map<string, unknown> {
    this.ensure(24);
    const magic = this.decoder.decode(this.buffer.subarray(0, 4));
    if (magic !== 'GGUF') throw new Error(`not a GGUF file (magic ${JSON.stringify(magic)})`);
    this.offset = 4;
    const version = this.u32();
    if (version < 2) throw new Error(`GGUF version ${version} is not supported`);
    this.u64(); // tensor count
    const keyCount = this.u64();
    const metadata = new Map<string, unknown>();
    for (let index = 0; index < keyCount; index++) {
      const key = this.string();
      metadata.set(key, this.value(this.u32()));
    }
    return metadata;
  }

  private ensure(byteCount: number): void {
    if (this.offset + byteCount <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.offset + byteCount, 1 << 20));
    grown.set(this.buffer);
    const read = readSync(this.file, grown, this.buffer.length, grown.length - this.buffer.length, this.buffer.length);
    if (this.buffer.length + read < this.offset + byteCount) throw new Error('GGUF metadata runs past the end of file');
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  private value(type: number): unknown {
    switch (type) {
      case 0: return this.scalar(1, () => this.view.getUint8(this.offset));
      case 1: return this.scalar(1, () => this.view.getInt8(this.offset));
      case 2: return this.scalar(2, () => this.view.getUint16(this.offset, true));
      case 3: return this.scalar(2, () => this.view.getInt16(this.offset, true));
      case 4: return this.u32();
      case 5: return this.scalar(4, () => this.view.getInt32(this.offset, true));
      case 6: return this.scalar(4, () => this.view.getFloat32(this.offset, true));
      case 7: return this.scalar(1, () => this.view.getUint8(this.offset) !== 0);
      case 8: return this.string();
      case 9: return this.array();
      case 10: return this.u64();
      case 11: return this.scalar(8, () => Number(this.view.getBigInt64(this.offset, true)));
      case 12: return this.scalar(8, () => this.view.getFloat64(this.offset, true));
      default: throw new Error(`unknown GGUF value type ${type}`);
    }
  }

  private array(): unknown {
    const elementType = this.u32();
    const count = this.u64();
    if (elementType === 6) {
      this.ensure(count * 4);
      const values = new Float32Array(count);
      for (let index = 0; index < count; index++) values[index] = this.view.getFloat32(this.offset + index * 4, true);
      this.offset += count * 4;
      return values;
    }
    if (elementType === 5) {
      this.ensure(count * 4);
      const values = new Int32Array(count);
      for (let index = 0; index < count; index++) values[index] = this.view.getInt32(this.offset + index * 4, true);
      this.offset += count * 4;
      return values;
    }
    const values: unknown[] = [];
    for (let index = 0; index < count; index++) values.push(this.value(elementType));
    return values;
  }

  private scalar<T>(byteCount: number, read: () => T): T {
    this.ensure(byteCount);
    const value = read();
    this.offset += byteCount;
    return value;
  }

  private u32(): number {
    return this.scalar(4, () => this.view.getUint32(this.offset, true));
  }

  private u64(): number {
    return this.scalar(8, () => Number(this.view.getBigUint64(this.offset, true)));
  }

  private string(): string {
    const length = this.u64();
    this.ensure(length);
    const text = this.decoder.decode(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return text;
  }
}
