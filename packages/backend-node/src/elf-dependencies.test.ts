import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readElfDynamicInfo } from './elf-dependencies.js';
import { writeFakeElf } from './elf-fixture.test-utils.js';
import { onnxruntimeBinaryFolder } from './shared-library.js';

const folder = mkdtempSync(join(tmpdir(), 'qaq-elf-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('readElfDynamicInfo', () => {
  it('reads NEEDED, SONAME and RUNPATH as written', () => {
    const path = join(folder, 'libfake_provider.so');
    writeFakeElf(path, { needed: ['libcudart.so.13', 'libcublas.so.13', 'libc.so.6'], soname: 'libfake_provider.so', runpath: '$ORIGIN' });
    expect(readElfDynamicInfo(path)).toEqual({
      needed: ['libcudart.so.13', 'libcublas.so.13', 'libc.so.6'],
      soname: 'libfake_provider.so',
      runpath: '$ORIGIN',
    });
  });

  it('reads the real onnxruntime library of onnxruntime-node', () => {
    const info = readElfDynamicInfo(join(onnxruntimeBinaryFolder(), 'libonnxruntime.so.1'));
    expect(info.soname).toBe('libonnxruntime.so.1');
    expect(info.needed).toContain('libc.so.6');
  });

  it('rejects a file that is not ELF, naming it', () => {
    const path = join(folder, 'not-a-library.so');
    writeFileSync(path, 'this is text');
    expect(() => readElfDynamicInfo(path)).toThrow(/not-a-library\.so is not a 64-bit little-endian ELF/);
  });
});
