import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';

export interface WorkerRunOptions {
  /** Working directory of the child (the repository root, so `--conditions=source` resolves packages from source). */
  readonly cwd: string;
  /** Kill the child after this many milliseconds (undefined: no limit). */
  readonly timeoutMilliseconds?: number;
}

/** A worker that did not report a result: it failed, or ran past its time limit. */
export class WorkerFailure extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

/**
 * Runs a TypeScript worker script in its own Node process (from source, through tsx) with a JSON job as its only
 * argument, and returns the value of the first stdout line of the form `{"result": …}`. Each measurement in its own
 * process keeps its peak resident memory its own.
 */
export function runWorkerScript(script: string, job: unknown, options: WorkerRunOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, JSON.stringify(job)], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    let timedOut = false;
    const timer =
      options.timeoutMilliseconds === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMilliseconds);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = output.split('\n').find((text) => text.startsWith('{"result"'));
      if (code !== 0 || line === undefined) {
        const reason = timedOut ? `timed out after ${options.timeoutMilliseconds} ms` : `exited with ${code ?? signal}`;
        reject(new WorkerFailure(`worker ${reason}\n${output}`, timedOut));
        return;
      }
      resolve((JSON.parse(line) as { result: unknown }).result);
    });
  });
}

/** `lscpu`'s model name (falls back to Node's view of the first CPU), with the logical CPU count. */
export function cpuDescription(): string {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((text) => text.startsWith('Model name:'));
    if (line !== undefined) model = line.replace('Model name:', '').trim();
  } catch {
    // lscpu missing: keep Node's model string.
  }
  return `${model} (${cpus().length} logical CPUs)`;
}

/** Comma-separated command-line list, blanks dropped. */
export function listArgument(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function positiveIntegerArgument(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}
