import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureModel } from '@qaq/backend-conformance';
import { createNodeBackend } from '@qaq/backend-node';
import { describe, expect, it } from 'vitest';
import { parseDeviceCheckOptions } from '../device-check-options.js';
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
      {
        status: 'measured',
        method: 'fp16',
        context: 2048,
        provider: 'cuda',
        prefillTokensPerSecond: 100,
        decodeTokensPerSecond: 20,
        decodeMedianMilliseconds: 50,
        kvBytes: 2 ** 20,
        kvFp16Bytes: 2 ** 20,
        kvSlackBytes: 0,
        transferBytesPerStep: 2 ** 20,
        runsPerStep: 61,
        attention: 'graph',
      },
    ]).split('\n');
    expect(table[0]).toBe('| method | context | provider | decode tok/s | median step ms | KV bytes | fp16 KV | vs fp16 | copied/step | runs/step | prefill tok/s |');
    expect(table[2]).toBe('| qaq:quality | 2048 | cuda | 87.3 | 11.46 | 3.00 MiB | 12.00 MiB | 4.00× | 512.0 KiB | 31 | 1234 |');
    expect(table[3]).toBe('| ort-int4 | 2048 | cuda | unavailable: kv-method-unavailable: not built |');
    expect(table[4]).toBe('| fp16 (graph attention) | 2048 | cuda | 20.0 | 50.00 | 1.00 MiB | 1.00 MiB | 1.00× | 1.00 MiB | 61 | 100 |');
  });
});

describe('parseDeviceCheckOptions', () => {
  it('keeps the defaults of the first GPU run: wasm-kernel attention, TF32 allowed on cuda, 2048/8192, 32 steps', () => {
    expect(parseDeviceCheckOptions([])).toMatchObject({
      cpu: false,
      attention: 'wasm-kernel',
      strictFloat32MatMul: false,
      methods: ['fp16', 'ort-int4', 'qaq'],
      contexts: [2048, 8192],
      decodeSteps: 32,
      budgetSeconds: 360,
      skipConformance: false,
    });
    expect(parseDeviceCheckOptions(['--cpu'])).toMatchObject({ contexts: [128, 256], decodeSteps: 8, attention: 'wasm-kernel' });
  });

  it('takes --attention graph and --strict-float32-matmul, and rejects what it cannot run', () => {
    expect(parseDeviceCheckOptions(['--methods', 'qaq', '--attention', 'graph', '--strict-float32-matmul'])).toMatchObject({
      methods: ['qaq'],
      attention: 'graph',
      strictFloat32MatMul: true,
    });
    expect(() => parseDeviceCheckOptions(['--attention', 'gpu'])).toThrow("--attention must be wasm-kernel or graph, got 'gpu'");
    expect(() => parseDeviceCheckOptions(['--contexts', '2048,0'])).toThrow('--contexts must be a positive integer, got 0');
    expect(() => parseDeviceCheckOptions(['--threads', '1.5'])).toThrow('--threads must be a positive integer, got 1.5');
    expect(() => parseDeviceCheckOptions(['--no-such-option'])).toThrow(/no-such-option/);
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

  it('--attention graph runs attention as ONNX graphs on the provider: 30 more runs per step, their placement checked', () => {
    const folder = mkdtempSync(join(tmpdir(), 'qaq-device-check-'));
    try {
      const jsonPath = join(folder, 'report.json');
      const run = spawnSync(
        'bash',
        [join(repositoryRoot, 'scripts/device-check.sh'), '--cpu', '--contexts', '48', '--decode-steps', '2', '--methods', 'qaq', '--skip-conformance', '--threads', '1', '--attention', 'graph', '--json', jsonPath],
        { cwd: repositoryRoot, encoding: 'utf8', timeout: 280_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      const lines = run.stdout.trim().split('\n');
      // 30 layer segments + the head, and one attention graph run per layer.
      expect(lines[2]).toMatch(/^\| qaq:quality \(graph attention\) \| 48 \| cpu \| .* \| 61 \| \d+ \|$/);
      const report = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>;
      expect(report['attention']).toBe('graph');
      expect((report['rows'] as { attention?: string }[])[0]?.attention).toBe('graph');
      expect(report['attentionPlacement']).toMatchObject({ method: 'qaq:quality', provider: 'cpu', graphs: expect.any(Number) });
      expect((report['attentionPlacement'] as { checked: { nodes: number }[] }).checked[0]?.nodes).toBeGreaterThan(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 300_000);
});
