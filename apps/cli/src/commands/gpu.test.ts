import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repositoryRoot = join(import.meta.dirname, '..', '..', '..', '..');

function qaq(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', join(repositoryRoot, 'apps/cli/src/main.ts'), ...args], {
    cwd: repositoryRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('qaq gpu', () => {
  it('probes every provider: available, or the reason and what is missing', () => {
    const run = qaq('gpu', 'probe', '--json');
    expect(run.status, run.stderr).toBe(0);
    const probes = JSON.parse(run.stdout) as { name: string; available: boolean; reason?: string; missing?: string[] }[];
    expect(probes.map((probe) => probe.name)).toEqual(['cpu', 'cuda', 'webgpu']);
    expect(probes[0]).toEqual({ name: 'cpu', available: true });
    for (const probe of probes.filter((candidate) => !candidate.available)) {
      expect(['missing-library', 'missing-driver', 'missing-adapter', 'not-supported', 'probe-failed']).toContain(probe.reason);
    }
    const text = qaq('gpu', 'probe');
    expect(text.stdout.split('\n')[0]).toBe('cpu: available');
    expect(text.stdout).toMatch(/^cuda: (available|unavailable, [a-z-]+)/m);
  });

  it('names the pinned wheels in its help and rejects an unknown subcommand', () => {
    const help = qaq('gpu', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('onnxruntime-gpu==1.30.0');
    expect(help.stdout).toContain('nvidia-cudnn-cu13==9.13.1.26');
    const unknown = qaq('gpu', 'frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown gpu subcommand "frobnicate"');
  });
});
