import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isQaqError } from '@qaq/errors';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicFileWriter } from './atomic-file-writer.js';
import { makeTemporaryDirectory, removeTemporaryDirectories, sha256Hex } from './test-helpers.test-utils.js';

afterAll(removeTemporaryDirectories);

describe('AtomicFileWriter', () => {
  it('only shows the file at its final path once committed', async () => {
    const directory = await makeTemporaryDirectory('atomic');
    const finalPath = join(directory, 'model.gguf');
    const writer = await AtomicFileWriter.create(finalPath);
    await writer.write(new TextEncoder().encode('GGUF'));
    await writer.write(new TextEncoder().encode(' body'));
    expect(await readdir(directory)).toEqual([expect.stringMatching(/^\.model\.gguf\.[0-9a-f]{12}\.partial$/)]);
    const digest = await writer.commit(sha256Hex(new TextEncoder().encode('GGUF body')));
    expect(digest).toBe(sha256Hex(new TextEncoder().encode('GGUF body')));
    expect(await readdir(directory)).toEqual(['model.gguf']);
    expect(await readFile(finalPath, 'utf8')).toBe('GGUF body');
  });

  it('removes the temporary file on a checksum mismatch and on abort, leaving any old file untouched', async () => {
    const directory = await makeTemporaryDirectory('atomic-bad');
    const finalPath = join(directory, 'model.gguf');
    const first = await AtomicFileWriter.create(finalPath);
    await first.write(new TextEncoder().encode('old'));
    await first.commit();

    const writer = await AtomicFileWriter.create(finalPath);
    await writer.write(new TextEncoder().encode('new bytes'));
    const error = await writer.commit('0'.repeat(64)).catch((caught: unknown) => caught);
    expect(isQaqError(error, 'checksum-mismatch')).toBe(true);
    expect((error as { details: { actual: string } }).details.actual).toBe(
      sha256Hex(new TextEncoder().encode('new bytes')),
    );
    expect(await readdir(directory)).toEqual(['model.gguf']);
    expect(await readFile(finalPath, 'utf8')).toBe('old');

    const aborted = await AtomicFileWriter.create(finalPath);
    await aborted.write(new TextEncoder().encode('partial'));
    await aborted.abort();
    await aborted.abort();
    expect(await readdir(directory)).toEqual(['model.gguf']);
  });
});
