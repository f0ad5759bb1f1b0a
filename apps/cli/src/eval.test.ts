import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repositoryRoot = join(import.meta.dirname, '..', '..', '..');
const cacheRoot = process.env['QAQ_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'qaq');
const defaultModelPresent = existsSync(join(cacheRoot, 'models', 'smollm2-135m', 'SmolLM2-135M-Instruct.Q4_1.gguf'));

function qaq(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(repositoryRoot, 'apps/cli/src/main.ts'), ...args],
    { cwd: repositoryRoot, encoding: 'utf8', timeout: 300_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const directory = mkdtempSync(join(tmpdir(), 'qaq-eval-'));
const textPath = join(directory, 'text.txt');
writeFileSync(
  textPath,
  'It was a bright cold day in April, and the clocks were striking thirteen. Winston Smith, his chin nuzzled into his breast ' +
    'in an effort to escape the vile wind, slipped quickly through the glass doors of Victory Mansions, though not quickly ' +
    'enough to prevent a swirl of gritty dust from entering along with him. The hallway smelt of boiled cabbage and old rag mats.',
);

describe('qaq eval', () => {
  it('is listed in the overview and has its own help', () => {
    expect(qaq('--help').stdout).toContain('qaq eval');
    const help = qaq('eval', '--help');
    expect(help.status).toBe(0);
    for (const flag of ['--text', '--method', '--context', '--stride', '--max-tokens', '--heatmap', '--ablations', '--lengths', '--depths']) {
      expect(help.stdout).toContain(flag);
    }
  });

  it('rejects bad arguments with exit code 2 before loading a model', () => {
    const noText = qaq('eval', '--method', 'qaq');
    expect(noText.status).toBe(2);
    expect(noText.stderr).toContain('--text');
    const noMethod = qaq('eval', '--text', textPath);
    expect(noMethod.status).toBe(2);
    expect(noMethod.stderr).toContain('--method');
    const badMethod = qaq('eval', '--text', textPath, '--method', 'uniform:4,part=heads');
    expect(badMethod.status).toBe(2);
    expect(badMethod.stderr).toContain('part must be keys, values or both');
    const badThreads = qaq('eval', '--text', textPath, '--method', 'qaq', '--attention-threads', 'many');
    expect(badThreads.status).toBe(2);
    expect(badThreads.stderr).toContain('--attention-threads');
    const badTask = qaq('eval', '--text', textPath, '--method', 'qaq', '--task', 'trivia');
    expect(badTask.status).toBe(2);
    expect(badTask.stderr).toContain('--task');
    // --sweep hands the command line to the report writer, which has its own flags.
    const sweep = qaq('eval', '--sweep', '--out', join(directory, 'report'));
    expect(sweep.status).toBe(2);
    expect(sweep.stderr).toContain('eval --sweep needs --text');
  });

  it.runIf(defaultModelPresent)('fp32 against the fp32 reference: KL exactly 0, equal perplexities, every contract key', () => {
    const heatmapPath = join(directory, 'heatmap.json');
    const run = qaq('eval', '--json', '--text', textPath, '--method', 'fp32', '--method', 'uniform:8', '--context', '32', '--max-tokens', '48', '--heatmap', heatmapPath, '--attention-threads', '2');
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.length).toBe(2);
    const [fp32, uniform] = lines.map((line) => JSON.parse(line) as Record<string, number | string>);
    for (const key of [
      'model',
      'method',
      'tokens',
      'context',
      'ppl',
      'ppl_reference',
      'kl_mean',
      'kl_p99',
      'top1_agreement',
      'bits_per_element',
      'compression_ratio',
      'kv_bytes',
      'kv_bytes_fp16',
      'decode_tokens_per_s',
      'peak_rss_bytes',
    ]) {
      expect(fp32, key).toHaveProperty(key);
    }
    expect(fp32?.['method']).toBe('fp32');
    expect(fp32?.['tokens']).toBe(48);
    expect(fp32?.['kl_mean']).toBe(0);
    expect(fp32?.['ppl']).toBe(fp32?.['ppl_reference']);
    expect(fp32?.['peak_rss_bytes']).toBeGreaterThan(50 * 1024 ** 2);
    expect(uniform?.['method']).toBe('uniform:8');
    expect(uniform?.['attention_threads']).toBe(2);
    expect(uniform?.['kl_mean']).toBeLessThan(0.02);
    const heatmap = JSON.parse(readFileSync(heatmapPath, 'utf8')) as { maps: { method: string; layers: { keys: number[] }[] }[] };
    expect(heatmap.maps.map((map) => map.method)).toEqual(['uniform:8']);
    expect(heatmap.maps[0]?.layers[0]?.keys.length).toBe(32);
  }, 600_000);
});
