import { QaqError } from '@qaq/errors';
import { ByteReader, ByteWriter } from './byte-io.js';
import type { KvCacheConfig } from './config.js';
import { crc32 } from './crc32.js';
import { KvCache } from './kv-cache.js';

/** "QAQK" */
const MAGIC = 0x4b514151;
export const CACHE_FORMAT_VERSION = 1;

/*
 * Format v1, little-endian:
 *   u32 magic "QAQK" | u16 version | u16 reserved (0) | u32 configLength | config JSON (ASCII)
 *   per layer: u32 tokenCount; keys then values, per group (token-major):
 *     u8 bits | u8 pending bits | codes | u16 minimum | u16 step | u16 outlier values… | outlier positions… | tier fp16…
 *   u32 CRC-32 of every byte before it.
 * Pools are written compacted: a deserialized cache holds the same groups with no free slots.
 */

function encodeAscii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code > 127) throw new QaqError('invalid-cache-config', 'config must serialize to ASCII JSON', { details: { index } });
    bytes[index] = code;
  }
  return bytes;
}

function decodeAscii(bytes: Uint8Array): string {
  let text = '';
  for (let index = 0; index < bytes.length; index += 1) text += String.fromCharCode(bytes[index] as number);
  return text;
}

export function serializeCache(cache: KvCache): Uint8Array {
  const config = encodeAscii(JSON.stringify(cache.config));
  let size = 4 + 2 + 2 + 4 + config.length + 4;
  for (let layer = 0; layer < cache.config.layers; layer += 1) {
    size += 4;
    for (const kind of ['keys', 'values'] as const) {
      const store = cache.store(kind, layer);
      for (let group = 0; group < store.groupCount; group += 1) size += store.serializedGroupBytes(store.bitsOf(group));
    }
  }
  const writer = new ByteWriter(size);
  writer.u32(MAGIC);
  writer.u16(CACHE_FORMAT_VERSION);
  writer.u16(0);
  writer.u32(config.length);
  writer.raw(config);
  for (let layer = 0; layer < cache.config.layers; layer += 1) {
    writer.u32(cache.tokenCount(layer));
    for (const kind of ['keys', 'values'] as const) {
      const store = cache.store(kind, layer);
      for (let group = 0; group < store.groupCount; group += 1) store.exportGroup(group, writer);
    }
  }
  writer.u32(crc32(writer.bytes, 0, writer.offset));
  return writer.bytes;
}

/** Rebuilds a cache; truncated, tampered or unknown data → QaqError('corrupt-cache'), never a partial cache. */
export function deserializeCache(bytes: Uint8Array): KvCache {
  const corrupt = (message: string, details: Record<string, unknown> = {}, cause?: unknown): never => {
    throw new QaqError('corrupt-cache', message, cause === undefined ? { details } : { details, cause });
  };
  if (!(bytes instanceof Uint8Array) || bytes.length < 16) corrupt('serialized cache is too short', { length: bytes.length });
  const end = bytes.length - 4;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(end, true);
  const actual = crc32(bytes, 0, end);
  const reader = new ByteReader(bytes, 0, end);
  if (reader.u32() !== MAGIC) corrupt('not a QAQ cache (bad magic)');
  const version = reader.u16();
  if (version !== CACHE_FORMAT_VERSION) corrupt('unsupported cache format version', { version });
  if (stored !== actual) corrupt('checksum mismatch', { stored, actual });
  reader.u16();
  const configText = decodeAscii(reader.raw(reader.u32()));
  let cache: KvCache;
  try {
    cache = new KvCache(JSON.parse(configText) as KvCacheConfig);
  } catch (cause) {
    return corrupt('invalid cache config', {}, cause);
  }
  try {
    for (let layer = 0; layer < cache.config.layers; layer += 1) {
      const tokenCount = reader.u32();
      const window = cache.config.slidingWindow[layer] ?? null;
      if (tokenCount > 1 << 26 || (window !== null && tokenCount > window)) corrupt('implausible token count', { layer, tokenCount });
      for (const kind of ['keys', 'values'] as const) {
        const store = cache.store(kind, layer);
        for (let group = 0; group < tokenCount * cache.groupsPerToken; group += 1) store.importGroup(reader);
      }
    }
  } catch (cause) {
    if (cause instanceof QaqError && cause.code === 'corrupt-cache') throw cause;
    return corrupt('invalid cache contents', {}, cause);
  }
  if (reader.offset !== end) corrupt('trailing bytes after the cache', { offset: reader.offset, end });
  return cache;
}
