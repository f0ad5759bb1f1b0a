import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import { QaqError } from '@qaq/errors';
import { modelErrorCodes } from './model-errors.js';

/** One file in a zip archive's central directory. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly compressionMethod: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

const endOfCentralDirectorySignature = 0x06054b50;
const centralDirectorySignature = 0x02014b50;
const localHeaderSignature = 0x04034b50;
const endOfCentralDirectoryMinimumSize = 22;
const maximumCommentSize = 0xffff;

/** Reads the central directory of a zip file (wheels are zips). Zip64 archives are refused, not misread. */
export async function readZipEntries(zipPath: string): Promise<ZipEntry[]> {
  const handle = await open(zipPath, 'r');
  try {
    const { size } = await handle.stat();
    const tailSize = Math.min(size, endOfCentralDirectoryMinimumSize + maximumCommentSize);
    const tail = Buffer.alloc(tailSize);
    await handle.read(tail, 0, tailSize, size - tailSize);
    let endOffset = -1;
    for (let position = tailSize - endOfCentralDirectoryMinimumSize; position >= 0; position--) {
      if (tail.readUInt32LE(position) === endOfCentralDirectorySignature) {
        endOffset = position;
        break;
      }
    }
    if (endOffset < 0) throw invalidZip(zipPath, 'no end-of-central-directory record');
    const entryCount = tail.readUInt16LE(endOffset + 10);
    const directorySize = tail.readUInt32LE(endOffset + 12);
    const directoryOffset = tail.readUInt32LE(endOffset + 16);
    if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      throw invalidZip(zipPath, 'zip64 archives are not supported');
    }
    if (directoryOffset + directorySize > size) throw invalidZip(zipPath, 'central directory outside the file');
    const directory = Buffer.alloc(directorySize);
    await handle.read(directory, 0, directorySize, directoryOffset);
    return parseCentralDirectory(zipPath, directory, entryCount);
  } finally {
    await handle.close();
  }
}

function parseCentralDirectory(zipPath: string, directory: Buffer, entryCount: number): ZipEntry[] {
  const entries: ZipEntry[] = [];
  let position = 0;
  for (let index = 0; index < entryCount; index++) {
    if (position + 46 > directory.length || directory.readUInt32LE(position) !== centralDirectorySignature) {
      throw invalidZip(zipPath, `bad central directory record ${index}`);
    }
    const nameLength = directory.readUInt16LE(position + 28);
    const extraLength = directory.readUInt16LE(position + 30);
    const commentLength = directory.readUInt16LE(position + 32);
    const entry: ZipEntry = {
      compressionMethod: directory.readUInt16LE(position + 10),
      crc32: directory.readUInt32LE(position + 16),
      compressedSize: directory.readUInt32LE(position + 20),
      uncompressedSize: directory.readUInt32LE(position + 24),
      localHeaderOffset: directory.readUInt32LE(position + 42),
      name: directory.toString('utf8', position + 46, position + 46 + nameLength),
    };
    if (entry.compressedSize === 0xffffffff || entry.uncompressedSize === 0xffffffff) {
      throw invalidZip(zipPath, `entry ${entry.name} needs zip64, which is not supported`);
    }
    entries.push(entry);
    position += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * Streams one entry's uncompressed bytes. The CRC-32 and size are checked as the bytes pass, so a corrupt archive
 * fails at the end of the stream instead of yielding wrong bytes silently.
 */
export async function* readZipEntry(zipPath: string, entry: ZipEntry): AsyncGenerator<Buffer, void, undefined> {
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw invalidZip(zipPath, `entry ${entry.name} uses unsupported compression method ${entry.compressionMethod}`);
  }
  const dataOffset = await localDataOffset(zipPath, entry);
  const raw =
    entry.compressedSize === 0
      ? undefined
      : createReadStream(zipPath, { start: dataOffset, end: dataOffset + entry.compressedSize - 1 });
  const source = raw === undefined ? [] : entry.compressionMethod === 8 ? raw.pipe(createInflateRaw()) : raw;
  let checksum = 0;
  let length = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      checksum = crc32(chunk, checksum);
      length += chunk.length;
      yield chunk;
    }
  } catch (error) {
    throw invalidZip(zipPath, `entry ${entry.name} could not be inflated`, error);
  } finally {
    raw?.destroy();
  }
  if (length !== entry.uncompressedSize || checksum >>> 0 !== entry.crc32) {
    throw invalidZip(zipPath, `entry ${entry.name} is corrupt (size or CRC-32 mismatch)`);
  }
}

async function localDataOffset(zipPath: string, entry: ZipEntry): Promise<number> {
  const handle = await open(zipPath, 'r');
  try {
    const header = Buffer.alloc(30);
    const { bytesRead } = await handle.read(header, 0, 30, entry.localHeaderOffset);
    if (bytesRead < 30 || header.readUInt32LE(0) !== localHeaderSignature) {
      throw invalidZip(zipPath, `bad local header for ${entry.name}`);
    }
    return entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } finally {
    await handle.close();
  }
}

function invalidZip(zipPath: string, reason: string, cause?: unknown): QaqError {
  return new QaqError(modelErrorCodes.invalidZip, `${zipPath}: ${reason}`, {
    details: { zipPath, reason },
    ...(cause === undefined ? {} : { cause }),
  });
}
