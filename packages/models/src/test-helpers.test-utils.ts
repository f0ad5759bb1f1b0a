import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipInput {
  readonly name: string;
  readonly data: Uint8Array;
  /** 0 = stored, 8 = deflate (default). */
  readonly method?: 0 | 8;
}

/** Writes a minimal but standard zip (local headers, central directory, end record), like a wheel. */
export async function writeZip(path: string, inputs: readonly ZipInput[]): Promise<void> {
  const localParts: Buffer[] = [];
  const centralParts: Buffer[] = [];
  let offset = 0;
  for (const input of inputs) {
    const method = input.method ?? 8;
    const name = Buffer.from(input.name, 'utf8');
    const payload = method === 8 ? deflateRawSync(input.data) : Buffer.from(input.data);
    const checksum = crc32(input.data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(payload.length, 18);
    local.writeUInt32LE(input.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    localParts.push(local, name, payload);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(payload.length, 20);
    central.writeUInt32LE(input.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centralParts.push(central, name);
    offset += local.length + name.length + payload.length;
  }
  const centralDirectory = Buffer.concat(centralParts);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(inputs.length, 8);
  end.writeUInt16LE(inputs.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  await writeFile(path, Buffer.concat([...localParts, centralDirectory, end]));
}

/** Deterministic pseudo-random bytes that start with the GGUF magic. */
export function fakeGgufBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = (state >>> 0) % 7 === 0 ? 0 : state & 0xff; // some runs compress, most do not
  }
  bytes.set([0x47, 0x47, 0x55, 0x46], 0);
  return bytes;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const temporaryDirectories: string[] = [];

export async function makeTemporaryDirectory(prefix: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), `qaq-models-${prefix}-`));
  temporaryDirectories.push(directory);
  return directory;
}

/** For afterAll: deletes every folder made by makeTemporaryDirectory in this test file. */
export async function removeTemporaryDirectories(): Promise<void> {
  await Promise.all(temporaryDirectories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
}

export interface FakePythonBehaviour {
  /** "name==version" → wheel file to hand out. */
  readonly wheels?: Readonly<Record<string, string>>;
  readonly exitCode?: number;
  readonly stderr?: string;
}

/**
 * An executable standing in for `python3` (tests must not need Python): it accepts exactly the pip download command
 * line, copies prepared wheels into the -d folder, prints pip-like progress, and logs each invocation.
 */
export async function createFakePython(
  directory: string,
  behaviour: FakePythonBehaviour,
): Promise<{
  command: string;
  invocations: () => Promise<string[][]>;
}> {
  const command = join(directory, 'fake-python.cjs');
  const logPath = join(directory, 'fake-python.log');
  const script = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const behaviour = ${JSON.stringify(behaviour)};
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(logPath)}, JSON.stringify(args) + '\\n');
if (behaviour.stderr) process.stderr.write(behaviour.stderr);
if (behaviour.exitCode) process.exit(behaviour.exitCode);
if (args[0] !== '-m' || args[1] !== 'pip' || args[2] !== 'download') process.exit(3);
const target = args[args.indexOf('-d') + 1];
for (const specifier of args.filter((arg) => arg.includes('=='))) {
  const wheel = behaviour.wheels[specifier];
  if (!wheel) { process.stderr.write('ERROR: No matching distribution found for ' + specifier + '\\n'); process.exit(1); }
  const size = fs.statSync(wheel).size;
  process.stdout.write('Collecting ' + specifier + '\\n  Downloading ' + path.basename(wheel) + ' (' + (size / 1e6).toFixed(1) + ' MB)\\n');
  process.stdout.write('\\x1b[?25l   \\x1b[32m0.0/' + (size / 1e6).toFixed(1) + ' MB\\x1b[0m\\r\\x1b[2K   ' + (size / 1e6).toFixed(1) + '/' + (size / 1e6).toFixed(1) + ' MB\\n');
  fs.copyFileSync(wheel, path.join(target, path.basename(wheel)));
}
process.stdout.write('Successfully downloaded\\n');
`;
  await writeFile(command, script);
  await chmod(command, 0o755);
  return {
    command,
    invocations: async () => {
      try {
        const text = await readFile(logPath, 'utf8');
        return text
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as string[]);
      } catch {
        return [];
      }
    },
  };
}
