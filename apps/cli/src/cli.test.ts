import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
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

describe('qaq command line', () => {
  it('prints an overview and per-command help', () => {
    const overview = qaq('--help');
    expect(overview.status).toBe(0);
    expect(overview.stdout).toContain('qaq generate');
    const help = qaq('generate', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--max-tokens');
  });

  it('rejects bad arguments with exit code 2 and a message naming the flag', () => {
    const badNumber = qaq('generate', '--max-tokens', 'many', 'hello');
    expect(badNumber.status).toBe(2);
    expect(badNumber.stderr).toContain('--max-tokens');
    const noPrompt = qaq('generate');
    expect(noPrompt.status).toBe(2);
    const unknownMethod = qaq('generate', '--kv', 'zip9', 'hello');
    expect(unknownMethod.status).toBe(2);
    expect(unknownMethod.stderr).toContain('unknown --kv method');
    const badBits = qaq('generate', '--kv', 'uniform:9', 'hello');
    expect(badBits.status).toBe(2);
    expect(badBits.stderr).toContain('--kv uniform:9');
    const badSetting = qaq('generate', '--kv', 'qaq:sk=0', 'hello');
    expect(badSetting.status).toBe(2);
    expect(badSetting.stderr).toContain('sk and sv must be > 0');
    expect(qaq('frobnicate').status).toBe(2);
  });

  it('reports a missing model file clearly', () => {
    const missing = qaq('generate', '--model', '/nonexistent/model.gguf', 'hello');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/error \[[a-z-]+\]/);
  });

  it.runIf(defaultModelPresent)('generates greedily on the default model and reports the contract fields', () => {
    const run = qaq('generate', '--json', '--kv', 'fp32', '--temperature', '0', '--max-tokens', '24', 'What is the capital of France?');
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
    for (const key of [
      'text',
      'prompt_tokens',
      'generated_tokens',
      'prefill_tokens_per_s',
      'decode_tokens_per_s',
      'provider',
      'kv_method',
      'attention_threads',
      'kv_bytes',
      'kv_bytes_fp16',
      'bits_per_element',
      'peak_rss_bytes',
    ]) {
      expect(report, key).toHaveProperty(key);
    }
    expect(report['text']).toContain('Paris');
    expect(report['provider']).toBe('cpu');
    expect(report['kv_method']).toBe('fp32');
    expect(report['bits_per_element']).toBe(32);
    // Every prompt token and every generated token that was fed back is cached; the token sampled last is fed only
    // when something followed it (EOS, which generated_tokens leaves out).
    const fed = (report['prompt_tokens'] as number) + (report['generated_tokens'] as number) - (report['finish_reason'] === 'eos' ? 0 : 1);
    // 30 layers × 3 KV heads × 64 dims × (K + V) × 4 bytes per cached token.
    expect(report['kv_bytes']).toBe(fed * 30 * 3 * 64 * 2 * 4);
    expect(report['kv_bytes_fp16']).toBe(fed * 30 * 3 * 64 * 2 * 2);
  });

  it.runIf(defaultModelPresent)('uses QAQ by default: fewer than 16 bits per element and plausible text', () => {
    const run = qaq('generate', '--json', '--temperature', '0', '--max-tokens', '24', '--attention-threads', '2', 'What is the capital of France?');
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
    expect(report['kv_method']).toBe('qaq:lean');
    expect(report['attention_threads']).toBe(2);
    expect(report['text']).toContain('Paris');
    const fed = (report['prompt_tokens'] as number) + (report['generated_tokens'] as number) - (report['finish_reason'] === 'eos' ? 0 : 1);
    // Bytes from the cache's exact accounting; the fp16 reference is 30 layers × 3 KV heads × 64 dims × 2 × 2 bytes.
    expect(report['kv_bytes_fp16']).toBe(fed * 30 * 3 * 64 * 2 * 2);
    expect(report['bits_per_element']).toBeLessThan(16);
    expect(report['bits_per_element']).toBeGreaterThan(1);
    expect(report['kv_bytes']).toBeLessThan(report['kv_bytes_fp16'] as number);
  });

  it.runIf(defaultModelPresent)('prints the memory line after streamed text, for QAQ and for ort-int4', () => {
    const run = qaq('generate', '--kv', 'uniform:4', '--temperature', '0', '--max-tokens', '8', 'Say hello.');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/KV cache \(uniform:4\): .* held for .* elements vs .* at fp16 \([0-9.]+x\), 4\.81 bits\/element/);
    const ort = qaq('generate', '--kv', 'ort-int4', '--temperature', '0', '--max-tokens', '4', 'hello');
    expect(ort.status, ort.stderr).toBe(0);
    // 4-bit codes (0.5 bytes per element) plus the fp32 per-channel scales.
    expect(ort.stderr).toMatch(/KV cache \(ort-int4\): .* held for .* elements vs .* at fp16 \([0-9.]+x\), [0-9.]+ bits\/element/);
  });
});
