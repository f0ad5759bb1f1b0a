import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { sha256OfFile } from './file-hash.js';
import type { ModelProgressListener } from './progress.js';

interface Stamp {
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly sha256: string;
}

type StampFile = Record<string, Stamp>;

/** `<cache>/verified-files.json`: absolute path → size, mtime and SHA-256 of a file already hashed. */
export function stampFilePath(cacheDirectory: string): string {
  return join(cacheDirectory, 'verified-files.json');
}

/**
 * SHA-256 of a file, reusing an earlier hash when the size and mtime are unchanged (so a 250 MB model is not
 * re-read on every start). Concurrent writers may drop each other's entries; the cost is one re-hash.
 */
export async function verifiedSha256(
  cacheDirectory: string,
  filePath: string,
  onProgress?: ModelProgressListener,
  label?: string,
): Promise<string> {
  const absolutePath = resolve(filePath);
  const { size, mtimeMs } = await stat(absolutePath);
  const stamps = await readStamps(cacheDirectory);
  const known = stamps[absolutePath];
  if (known !== undefined && known.sizeBytes === size && known.mtimeMs === mtimeMs) return known.sha256;
  const sha256 = await sha256OfFile(absolutePath, onProgress, label);
  await recordStamp(cacheDirectory, absolutePath, { sizeBytes: size, mtimeMs, sha256 });
  return sha256;
}

/** Records the hash of a file just written and checked (saves hashing it again on the next start). */
export async function recordVerifiedFile(cacheDirectory: string, filePath: string, sha256: string): Promise<void> {
  const absolutePath = resolve(filePath);
  const { size, mtimeMs } = await stat(absolutePath);
  await recordStamp(cacheDirectory, absolutePath, { sizeBytes: size, mtimeMs, sha256 });
}

export async function forgetVerifiedFile(cacheDirectory: string, filePath: string): Promise<void> {
  const absolutePath = resolve(filePath);
  const stamps = await readStamps(cacheDirectory);
  if (stamps[absolutePath] === undefined) return;
  delete stamps[absolutePath];
  await writeStamps(cacheDirectory, stamps);
}

async function recordStamp(cacheDirectory: string, absolutePath: string, stamp: Stamp): Promise<void> {
  const stamps = await readStamps(cacheDirectory);
  stamps[absolutePath] = stamp;
  await writeStamps(cacheDirectory, stamps);
}

async function readStamps(cacheDirectory: string): Promise<StampFile> {
  let text: string;
  try {
    text = await readFile(stampFilePath(cacheDirectory), 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isStampFile(parsed) ? parsed : {};
  } catch {
    return {}; // a torn or hand-edited file only costs a re-hash
  }
}

async function writeStamps(cacheDirectory: string, stamps: StampFile): Promise<void> {
  const target = stampFilePath(cacheDirectory);
  await mkdir(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(stamps, null, 2)}\n`);
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
}

function isStampFile(value: unknown): value is StampFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every(
    (stamp: unknown) =>
      typeof stamp === 'object' &&
      stamp !== null &&
      typeof (stamp as Stamp).sizeBytes === 'number' &&
      typeof (stamp as Stamp).mtimeMs === 'number' &&
      typeof (stamp as Stamp).sha256 === 'string',
  );
}
