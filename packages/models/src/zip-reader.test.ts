import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isQaqError } from '@qaq/errors';
import { afterAll, describe, expect, it } from 'vitest';
import {
  fakeGgufBytes,
  makeTemporaryDirectory,
  removeTemporaryDirectories,
  writeZip,
} from './test-helpers.test-utils.js';
import { readZipEntries, readZipEntry, type ZipEntry } from './zip-reader.js';

async function extract(zipPath: string, entry: ZipEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readZipEntry(zipPath, entry)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function codeOf(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return isQaqError(error) ? error.code : String(error);
  }
  return undefined;
}

afterAll(removeTemporaryDirectories);

describe('zip reader', () => {
  it('lists and extracts stored, deflated and empty entries of a wheel-like zip', async () => {
    const directory = await makeTemporaryDirectory('zip');
    const zipPath = join(directory, 'demo-1.0-py3-none-any.whl');
    const model = fakeGgufBytes(300_000, 7);
    const text = new TextEncoder().encode('Metadata-Version: 2.1\nName: demo\n'.repeat(50));
    await writeZip(zipPath, [
      { name: 'demo/__init__.py', data: new Uint8Array(0) },
      { name: 'demo/data/model.gguf', data: model },
      { name: 'demo-1.0.dist-info/METADATA', data: text, method: 0 },
    ]);
    const entries = await readZipEntries(zipPath);
    expect(entries.map((entry) => [entry.name, entry.compressionMethod, entry.uncompressedSize])).toEqual([
      ['demo/__init__.py', 8, 0],
      ['demo/data/model.gguf', 8, 300_000],
      ['demo-1.0.dist-info/METADATA', 0, text.length],
    ]);
    expect((await extract(zipPath, entries[0]!)).length).toBe(0);
    expect(Buffer.compare(await extract(zipPath, entries[1]!), Buffer.from(model))).toBe(0);
    expect((await extract(zipPath, entries[2]!)).toString()).toBe(new TextDecoder().decode(text));
  });

  it('rejects corrupt data (CRC-32) and files that are not zips', async () => {
    const directory = await makeTemporaryDirectory('zip-bad');
    const zipPath = join(directory, 'bad.whl');
    await writeZip(zipPath, [{ name: 'payload.bin', data: fakeGgufBytes(1000, 3), method: 0 }]);
    const bytes = await readFile(zipPath);
    bytes[30 + 'payload.bin'.length + 500]! ^= 0xff; // flip a byte inside the stored data
    await writeFile(zipPath, bytes);
    const [entry] = await readZipEntries(zipPath);
    expect(await codeOf(() => extract(zipPath, entry!))).toBe('invalid-zip');

    const notZip = join(directory, 'not.whl');
    await writeFile(notZip, 'hello, not a zip at all');
    expect(await codeOf(() => readZipEntries(notZip))).toBe('invalid-zip');
  });
});
