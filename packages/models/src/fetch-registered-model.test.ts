import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isQaqError, type QaqError } from '@qaq/errors';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelProgressEvent } from './progress.js';
import type { RegisteredModel } from './registry.js';
import { resolveModel } from './resolve-model.js';
import {
  createFakePython,
  fakeGgufBytes,
  makeTemporaryDirectory,
  removeTemporaryDirectories,
  sha256Hex,
  writeZip,
} from './test-helpers.test-utils.js';

afterAll(removeTemporaryDirectories);

interface Fixture {
  readonly cacheDirectory: string;
  readonly registry: RegisteredModel[];
  readonly wheels: Record<string, string>;
  readonly single: Uint8Array;
  readonly parts: Uint8Array[];
}

/** Builds two registry entries backed by real zip wheels: a one-file model and a three-part model. */
async function buildFixture(): Promise<Fixture> {
  const root = await makeTemporaryDirectory('fetch');
  const wheelDirectory = join(root, 'wheels');
  await mkdir(wheelDirectory);
  const single = fakeGgufBytes(200_000, 1);
  const singleWheel = join(wheelDirectory, 'tiny_model-0.1.0-py3-none-any.whl');
  await writeZip(singleWheel, [
    { name: 'tiny_model/__init__.py', data: new TextEncoder().encode('') },
    { name: 'tiny_model/tiny.gguf', data: single },
  ]);
  const whole = fakeGgufBytes(150_000, 2);
  const parts = [whole.slice(0, 60_000), whole.slice(60_000, 120_000), whole.slice(120_000)];
  const wheels: Record<string, string> = { 'tiny-model==0.1.0': singleWheel };
  for (const [index, part] of parts.entries()) {
    const wheel = join(wheelDirectory, `split_model_part${index + 1}-2.0.0-py3-none-any.whl`);
    await writeZip(wheel, [{ name: `split_model_part${index + 1}/data/split.gguf.part0${index}`, data: part }]);
    wheels[`split-model-part${index + 1}==2.0.0`] = wheel;
  }
  const registry: RegisteredModel[] = [
    {
      id: 'tiny',
      description: 'test',
      license: 'test',
      fileName: 'tiny.gguf',
      sizeBytes: single.length,
      sha256: sha256Hex(single),
      parts: [{ packageName: 'tiny-model', version: '0.1.0', entryPath: 'tiny_model/tiny.gguf' }],
    },
    {
      id: 'split',
      description: 'test',
      license: 'test',
      fileName: 'split.gguf',
      sizeBytes: whole.length,
      sha256: sha256Hex(whole),
      parts: [1, 2, 3].map((part) => ({
        packageName: `split-model-part${part}`,
        version: '2.0.0',
        entryPath: `split_model_part${part}/data/split.gguf.part0${part - 1}`,
      })),
    },
  ];
  return { cacheDirectory: join(root, 'cache'), registry, wheels, single, parts };
}

async function caught(action: () => Promise<unknown>): Promise<QaqError> {
  try {
    await action();
  } catch (error) {
    if (isQaqError(error)) return error;
    throw error;
  }
  throw new Error('expected a QaqError');
}

describe('fetching registered models with pip', () => {
  it('downloads, extracts, verifies and caches a one-file model, then reuses it', async () => {
    const fixture = await buildFixture();
    const python = await createFakePython(await makeTemporaryDirectory('python'), { wheels: fixture.wheels });
    const events: ModelProgressEvent[] = [];
    const options = {
      cacheDirectory: fixture.cacheDirectory,
      registry: fixture.registry,
      pythonCommand: python.command,
      onProgress: (event: ModelProgressEvent) => events.push(event),
    };
    const resolved = await resolveModel('tiny', options);
    expect(resolved).toEqual({
      path: join(fixture.cacheDirectory, 'models', 'tiny', 'tiny.gguf'),
      id: 'tiny',
      sha256: sha256Hex(fixture.single),
      source: 'fetched',
    });
    expect(Buffer.compare(await readFile(resolved.path), Buffer.from(fixture.single))).toBe(0);
    const [invocation] = await python.invocations();
    expect(invocation).toEqual([
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--only-binary=:all:',
      '--disable-pip-version-check',
      '--progress-bar',
      'on',
      '-d',
      expect.stringContaining(join(fixture.cacheDirectory, 'tmp')),
      'tiny-model==0.1.0',
    ]);
    expect(events.some((event) => event.phase === 'download' && event.totalBytes !== undefined && event.done)).toBe(
      true,
    );
    expect(events.some((event) => event.phase === 'download' && event.message?.startsWith('Collecting'))).toBe(true);
    expect(events.filter((event) => event.phase === 'extract' && event.done)).toHaveLength(1);
    expect(await readdir(join(fixture.cacheDirectory, 'tmp'))).toEqual([]); // scratch removed
    expect(await readdir(join(fixture.cacheDirectory, 'models', 'tiny'))).toEqual(['tiny.gguf']);

    const again = await resolveModel('tiny', options);
    expect(again.source).toBe('cache');
    expect(await python.invocations()).toHaveLength(1); // not fetched again
  });

  it('concatenates parts in order, with concatenation progress', async () => {
    const fixture = await buildFixture();
    const python = await createFakePython(await makeTemporaryDirectory('python'), { wheels: fixture.wheels });
    const events: ModelProgressEvent[] = [];
    const resolved = await resolveModel('split', {
      cacheDirectory: fixture.cacheDirectory,
      registry: fixture.registry,
      pythonCommand: python.command,
      onProgress: (event) => events.push(event),
    });
    expect(Buffer.compare(await readFile(resolved.path), Buffer.concat(fixture.parts))).toBe(0);
    const [invocation] = await python.invocations();
    expect(invocation!.slice(-3)).toEqual([
      'split-model-part1==2.0.0',
      'split-model-part2==2.0.0',
      'split-model-part3==2.0.0',
    ]);
    const concatenation = events.filter((event) => event.phase === 'concatenate');
    expect(concatenation.at(-1)).toMatchObject({ completedBytes: 150_000, totalBytes: 150_000, done: true });
  });

  it('re-fetches a corrupt cached file; offline it reports instead', async () => {
    const fixture = await buildFixture();
    const python = await createFakePython(await makeTemporaryDirectory('python'), { wheels: fixture.wheels });
    const options = {
      cacheDirectory: fixture.cacheDirectory,
      registry: fixture.registry,
      pythonCommand: python.command,
    };
    const { path } = await resolveModel('tiny', options);
    await writeFile(path, 'GGUF but corrupted');
    expect((await resolveModel('tiny', options)).source).toBe('fetched');
    expect(await python.invocations()).toHaveLength(2);

    await writeFile(path, 'GGUF but corrupted again');
    const error = await caught(() => resolveModel('tiny', { ...options, offline: true }));
    expect(error.code).toBe('checksum-mismatch');
    expect(error.details['removed']).toBe(true);
    expect(await readdir(join(fixture.cacheDirectory, 'models', 'tiny'))).toEqual([]);
    expect((await caught(() => resolveModel('tiny', { ...options, offline: true }))).code).toBe('model-not-cached');
  });

  it('removes everything on a checksum mismatch', async () => {
    const fixture = await buildFixture();
    const python = await createFakePython(await makeTemporaryDirectory('python'), { wheels: fixture.wheels });
    const registry = fixture.registry.map((model) => ({ ...model, sha256: 'f'.repeat(64) }));
    const error = await caught(() =>
      resolveModel('tiny', { cacheDirectory: fixture.cacheDirectory, registry, pythonCommand: python.command }),
    );
    expect(error.code).toBe('checksum-mismatch');
    expect(error.details).toMatchObject({ expected: 'f'.repeat(64), actual: sha256Hex(fixture.single), removed: true });
    expect(await readdir(join(fixture.cacheDirectory, 'models', 'tiny'))).toEqual([]);
    expect(await readdir(join(fixture.cacheDirectory, 'tmp'))).toEqual([]);
  });

  it('reports a missing python or pip, and pip failures with their stderr', async () => {
    const fixture = await buildFixture();
    const base = { cacheDirectory: fixture.cacheDirectory, registry: fixture.registry };
    const missing = await caught(() => resolveModel('tiny', { ...base, pythonCommand: '/nonexistent/python3' }));
    expect(missing.code).toBe('pip-missing');

    const noPip = await createFakePython(await makeTemporaryDirectory('python'), {
      exitCode: 1,
      stderr: '/usr/bin/python3: No module named pip\n',
    });
    expect((await caught(() => resolveModel('tiny', { ...base, pythonCommand: noPip.command }))).code).toBe(
      'pip-missing',
    );

    const failing = await createFakePython(await makeTemporaryDirectory('python'), { wheels: {} });
    const failure = await caught(() => resolveModel('tiny', { ...base, pythonCommand: failing.command }));
    expect(failure.code).toBe('download-failed');
    expect(failure.details['exitCode']).toBe(1);
    expect(failure.details['stderrTail']).toContain('No matching distribution found for tiny-model==0.1.0');
    expect(await readdir(join(fixture.cacheDirectory, 'tmp'))).toEqual([]);
  });

  it('reports a wheel without the expected file', async () => {
    const fixture = await buildFixture();
    const python = await createFakePython(await makeTemporaryDirectory('python'), { wheels: fixture.wheels });
    const registry = fixture.registry.map((model) => ({
      ...model,
      parts: model.parts.map((part) => ({ ...part, entryPath: 'elsewhere/model.gguf' })),
    }));
    const error = await caught(() =>
      resolveModel('tiny', { cacheDirectory: fixture.cacheDirectory, registry, pythonCommand: python.command }),
    );
    expect(error.code).toBe('zip-entry-missing');
  });
});
