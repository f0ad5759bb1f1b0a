import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { QaqError } from '@qaq/errors';

/** The dynamic-linking facts of a shared library that decide what it needs at load time. */
export interface ElfDynamicInfo {
  /** DT_NEEDED entries in file order, e.g. ['libcudart.so.13', 'libc.so.6']. */
  readonly needed: readonly string[];
  readonly soname: string | undefined;
  /** DT_RUNPATH (or DT_RPATH when there is no RUNPATH), as written, e.g. '$ORIGIN'. */
  readonly runpath: string | undefined;
}

const sectionTypeDynamic = 6;
const dynamicTagNeeded = 1n;
const dynamicTagSoname = 14n;
const dynamicTagRpath = 15n;
const dynamicTagRunpath = 29n;

function notElf(path: string, reason: string): QaqError {
  return new QaqError('invalid-library', `${path} is not a 64-bit little-endian ELF shared library: ${reason}`, { details: { path, reason } });
}

function readAt(descriptor: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(descriptor, buffer, 0, length, position);
  return buffer.subarray(0, read);
}

function cString(table: Buffer, offset: number): string {
  const end = table.indexOf(0, offset);
  return table.toString('latin1', offset, end < 0 ? table.length : end);
}

/**
 * Reads DT_NEEDED, DT_SONAME and DT_RUNPATH of a 64-bit little-endian ELF file (what `readelf -d` prints) by reading
 * only its header, section table, dynamic section and string table: the CUDA provider is 270 MB and this runs at
 * every probe. Used to name exactly the CUDA libraries the installed provider links against instead of guessing its
 * CUDA major version.
 */
export function readElfDynamicInfo(path: string): ElfDynamicInfo {
  const descriptor = openSync(path, 'r');
  try {
    const fileSize = fstatSync(descriptor).size;
    const header = readAt(descriptor, 0, 64);
    if (header.length < 64 || header.readUInt32BE(0) !== 0x7f454c46) throw notElf(path, 'no ELF magic');
    if (header[4] !== 2 || header[5] !== 1) throw notElf(path, `class ${header[4]}, data encoding ${header[5]}`);
    const sectionTableOffset = Number(header.readBigUInt64LE(0x28));
    const sectionEntrySize = header.readUInt16LE(0x3a);
    const sectionCount = header.readUInt16LE(0x3c);
    if (sectionEntrySize < 64 || sectionTableOffset + sectionEntrySize * sectionCount > fileSize) {
      throw notElf(path, 'section table out of the file');
    }
    const sections = readAt(descriptor, sectionTableOffset, sectionEntrySize * sectionCount);
    const section = (index: number): { type: number; link: number; offset: number; size: number } => {
      const base = index * sectionEntrySize;
      return {
        type: sections.readUInt32LE(base + 4),
        offset: Number(sections.readBigUInt64LE(base + 0x18)),
        size: Number(sections.readBigUInt64LE(base + 0x20)),
        link: sections.readUInt32LE(base + 0x28),
      };
    };
    let dynamicIndex = -1;
    for (let index = 0; index < sectionCount; index++) {
      if (section(index).type === sectionTypeDynamic) {
        dynamicIndex = index;
        break;
      }
    }
    if (dynamicIndex < 0) return { needed: [], soname: undefined, runpath: undefined };
    const dynamic = section(dynamicIndex);
    if (dynamic.link >= sectionCount) throw notElf(path, 'dynamic section links no string table');
    const strings = section(dynamic.link);
    if (dynamic.offset + dynamic.size > fileSize || strings.offset + strings.size > fileSize) {
      throw notElf(path, 'dynamic section out of the file');
    }
    const entries = readAt(descriptor, dynamic.offset, dynamic.size);
    const table = readAt(descriptor, strings.offset, strings.size);
    const needed: string[] = [];
    let soname: string | undefined;
    let runpath: string | undefined;
    let rpath: string | undefined;
    for (let base = 0; base + 16 <= entries.length; base += 16) {
      const tag = entries.readBigInt64LE(base);
      if (tag === 0n) break;
      const value = Number(entries.readBigUInt64LE(base + 8));
      if (tag === dynamicTagNeeded) needed.push(cString(table, value));
      else if (tag === dynamicTagSoname) soname = cString(table, value);
      else if (tag === dynamicTagRunpath) runpath = cString(table, value);
      else if (tag === dynamicTagRpath) rpath = cString(table, value);
    }
    return { needed, soname, runpath: runpath ?? rpath };
  } finally {
    closeSync(descriptor);
  }
}
