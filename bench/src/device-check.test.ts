import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureModel } from '@qaq/backend-conformance';
import { createNodeBackend } from '@qaq/backend-node';
import { describe, expect, it } from 'vitest';
import { formatDeviceCheckTable } from '../device-check-table.js';
import { countingBackend } from '../device-check-transfer.js';

const repositoryRoot = join(import.meta.dirname, '..', '..');
const cacheRoot = process.env['QAQ_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'qaq');
const defaultModelPresent = existsSync(join(cacheRoot, 'models', 'smollm2-135m', 'SmolLM2-135M-Instruct.Q4_1.gguf'));

describe('formatDeviceCheckTable', () => {
  it('prints measured rows with ratios and units, and the reason of rows that could not be measured', () => {
    const table = formatDeviceCheckTable([
      {
        status: 'measured',
        method: 'qaq:quality',
        context: 2048,
        provider: 'cuda',
        prefillTokensPerSecond: 1234.4,
        decodeTokensPerSecond: 87.25,
        decodeMedianMilliseconds: 11.456,
        kvBytes: 3 * 2 ** 20,
        kvFp16Bytes: 12 * 2 ** 20,
        kvSlackBytes: 0,
        transferBytesPerStep: 512 * 1024,
        runsPerStep: 31,
      },
      { status: 'unavailable', method: 'ort-int4', context: 2048, provider: 'cuda', reason: 'kv-method-unavailable: not built' },
    ]).split('\n');
    expect(table[0]).toBe('| method | context | provider | decode tok/s | median step ms | KV bytes | fp16 KV | vs fp16 | copied/step | runs/step | prefill tok/s |');
    expect(table[2]).toBe('| qaq:quality | 2048 | cuda | 87.3 | 11.46 | 3.00 MiB | 12.00 MiB | 4.00× | 512.0 KiB | 31 | 1234 |');
    expect(table[3]).toBe('| ort-int4 | 2048 | cuda | unavailable: kv-method-unavailable: not built |');
  });
});

describe('countingBackend', () => {
  it('counts the bytes fed to and fetched from every run, and keeps the models it loaded', async () => {
    const { backend, counters, models } = countingBackend(createNodeBackend());
    const model = fixtureModel('add');
    const session = await backend.createSession(model, { executionProviders: ['cpu'] });
    const ones = backend.createTensor('float32', new Float32Array(8).fill(1), [2, 4]);
    const outputs = await session.run({ a: ones, b: ones });
    await session.run({ a: ones, b: ones });
    expect(Object.keys(outputs)).toEqual(['sum']);
    expect(counters).toEqual({ runs: 2, bytesFed: 2 * 2 * 32, bytesFetched: 2 * 32, deviceTensors: 0 });
    expect(models).toEqual([model]);
    expect(session.provider).toBe('cpu');
    await session.dispose();
    expect(session.disposed).toBe(true);
  });
});

// The device check's --cpu dry run: the same code path as on the GPU machine, so the script cannot rot unnoticed.
describe.runIf(defaultModelPresent)('scripts/device-check.sh --cpu', () => {
  it('probes, generates, checks placement and prints a row per method, unavailable ones with their reason', () => {
    const folder = mkdtempSync(join(tmpdir(), 'qaq-device-check-'));
    try {
      const jsonPath = join(folder, 'report.json');
      const run = spawnSync(
        'bash',
        [join(repositoryRoot, 'scripts/device-check.sh'), '--cpu', '--contexts', '48', '--decode-steps', '2', '--methods', 'qaq,no-such-method', '--skip-conformance', '--threads', '1', '--json', jsonPath],
        { cwd: repositoryRoot, encoding: 'utf8', timeout: 280_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^\| method \| context \| provider \| decode tok\/s/);
      expect(lines[2]).toMatch(/^\| qaq:quality \| 48 \| cpu \| \d+\.\d \| \d+\.\d\d \| [\d.]+ KiB \| [\d.]+ (KiB|MiB) \| \d+\.\d\d× \| [\d.]+ KiB \| 31 \| \d+ \|$/);
      expect(lines[3]).toMatch(/^\| no-such-method \| 48 \| cpu \| unavailable: invalid-kv-method: /);
      const report = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>;
      expect((report['probes'] as { name: string }[]).map((probe) => probe.name)).toEqual(['cpu', 'cuda', 'webgpu']);
      expect(report['generation']).toMatchObject({ provider: 'cpu', text: expect.stringMatching(/\S/) });
      expect(report['placement']).toMatchObject({ provider: 'cpu', graphs: 31 });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 300_000);
});
