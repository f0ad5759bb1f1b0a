import { writeFileSync } from 'node:fs';

/**
 * Writes the smallest 64-bit ELF file `readElfDynamicInfo` accepts: a header, a string table and a dynamic section
 * with the given DT_NEEDED / DT_SONAME / DT_RUNPATH entries. It cannot be loaded; it stands in for a 270 MB CUDA
 * provider library in tests.
 */
export function writeFakeElf(path: string, info: { needed: readonly string[]; soname?: string; runpath?: string }): void {
  const strings: number[] = [0];
  const offsetOf = (text: string): number => {
    const offset = strings.length;
    for (const byte of Buffer.from(text, 'latin1')) strings.push(byte);
    strings.push(0);
    return offset;
  };
  const entries: [bigint, number][] = info.needed.map((name) => [1n, offsetOf(name)]);
  if (info.soname !== undefined) entries.push([14n, offsetOf(info.soname)]);
  if (info.runpath !== undefined) entries.push([29n, offsetOf(info.runpath)]);
  entries.push([0n, 0]);

  const stringTableOffset = 64;
  const dynamicOffset = Math.ceil((stringTableOffset + strings.length) / 8) * 8;
  const dynamicSize = entries.length * 16;
  const sectionTableOffset = dynamicOffset + dynamicSize;
  const file = Buffer.alloc(sectionTableOffset + 3 * 64);
  file.writeUInt32BE(0x7f454c46, 0);
  file[4] = 2; // ELFCLASS64
  file[5] = 1; // little-endian
  file[6] = 1;
  file.writeUInt16LE(3, 0x10); // ET_DYN
  file.writeUInt16LE(0x3e, 0x12); // x86-64
  file.writeUInt32LE(1, 0x14);
  file.writeBigUInt64LE(BigInt(sectionTableOffset), 0x28);
  file.writeUInt16LE(64, 0x34);
  file.writeUInt16LE(64, 0x3a);
  file.writeUInt16LE(3, 0x3c);
  Buffer.from(strings).copy(file, stringTableOffset);
  entries.forEach(([tag, value], index) => {
    file.writeBigInt64LE(tag, dynamicOffset + index * 16);
    file.writeBigUInt64LE(BigInt(value), dynamicOffset + index * 16 + 8);
  });
  const section = (index: number, type: number, offset: number, size: number, link: number): void => {
    const base = sectionTableOffset + index * 64;
    file.writeUInt32LE(type, base + 4);
    file.writeBigUInt64LE(BigInt(offset), base + 0x18);
    file.writeBigUInt64LE(BigInt(size), base + 0x20);
    file.writeUInt32LE(link, base + 0x28);
  };
  section(1, 3, stringTableOffset, strings.length, 0); // SHT_STRTAB
  section(2, 6, dynamicOffset, dynamicSize, 1); // SHT_DYNAMIC, linked to the string table
  writeFileSync(path, file);
}
