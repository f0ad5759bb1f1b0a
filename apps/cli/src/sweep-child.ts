import { spawn } from 'node:child_process';

export interface ChildRunResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  /** The last 4000 characters of stderr (the error a failing child printed). */
  readonly stderrTail: string;
}

export interface ChildRunOptions {
  readonly cwd: string;
  readonly timeoutMilliseconds: number;
  /** Each stderr line as it comes (progress), e.g. to echo it with a prefix. */
  readonly onStderrLine?: (line: string) => void;
}

/**
 * Runs `node <nodeArguments>` in a fresh process (so each evaluation's peak resident memory is its own), collecting
 * stdout and the tail of stderr; kills it after the timeout.
 */
export function runNodeChild(nodeArguments: readonly string[], options: ChildRunOptions): Promise<ChildRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArguments], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMilliseconds);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
      pending += chunk;
      const lines = pending.split(/\r|\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') options.onStderrLine?.(line);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, stdout, stderrTail: stderr });
    });
  });
}

/** The JSON objects printed one per line on stdout (other lines ignored). */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as unknown];
      } catch {
        return [];
      }
    });
}

/** One line saying why a child produced no result: its own error line when it printed one, else the exit status. */
export function childFailureReason(result: ChildRunResult, timeoutMinutes: number): string {
  if (result.timedOut) return `timed out after ${timeoutMinutes} min`;
  const lines = result.stderrTail.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const errorLine = lines.find((line) => /^error\b|Error:|QaqError/.test(line)) ?? lines.at(-1) ?? '';
  return `exited with ${result.exitCode ?? result.signal}${errorLine === '' ? '' : `: ${errorLine.slice(0, 400)}`}`;
}
