// The compact-cache attention graph (@qaq/onnx-graph, fed by @qaq/runtime's GraphAttentionKernel) in Debian's
// Chromium on WebGPU (SwiftShader: no shader-f16, so the kernel widens the cache's fp16 arrays to float32), every
// session created with backend-web's `requirePlacement: 'webgpu'` — creation fails unless onnxruntime placed every
// node on WebGpuExecutionProvider — and its outputs compared with @qaq/kv-cache's float64 reference.
// Runs only in `pnpm test:browser` (vitest.browser.config.ts). QAQ_REQUIRE_WEBGPU=1 fails instead of skipping when
// WebGPU cannot start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, chromiumExecutablePath, openBrowserPage, runPageFunction, type BrowserPage } from '@qaq/browser-testing';
import { COMPARISON_CASES, type ComparisonResult } from '../src/index.js';
import type { PageBackendReport, WebGpuAttentionReport } from './page.js';
import { startPageServer, type PageServer } from './page-server.js';

const requireWebGpu = process.env['QAQ_REQUIRE_WEBGPU'] === '1';
/** Output: relative to max(1, |reference|); probabilities: absolute. GPU float32 vs float64 (measured on SwiftShader: at most 2.4e-6 and 9.5e-7). */
const OUTPUT_TOLERANCE = 2e-5;
const PROBABILITY_TOLERANCE = 5e-6;

let server: PageServer;
let browserPage: BrowserPage;
let backend: PageBackendReport;

beforeAll(async () => {
  if (!chromiumAvailable()) throw new Error(`No Chromium at ${chromiumExecutablePath()}: run scripts/ensure-chromium.sh first (pnpm test:browser does)`);
  server = await startPageServer();
  browserPage = await openBrowserPage(server.url, 'webgpu');
  backend = await runPageFunction<PageBackendReport>(browserPage.page, 'qaqAttentionBackend');
});

afterAll(async () => {
  await browserPage?.close();
  await server?.close();
});

function describeResult(result: ComparisonResult): string {
  return `${result.name}: T=${result.tokens}, S=${result.queryCount}, output ${result.outputError.toExponential(1)}, probabilities ${result.probabilityError.toExponential(1)}, first call ${result.firstMilliseconds.toFixed(0)} ms, then ${result.medianMilliseconds.toFixed(1)} ms`;
}

describe('compact-cache attention graph on WebGPU (Chromium, SwiftShader)', () => {
  it('runs every node on WebGPU, feeds float32 for the fp16 arrays, and matches the float64 reference', async (context) => {
    if (backend.provider !== 'webgpu') {
      if (requireWebGpu) throw new Error(`WebGPU did not start: ${JSON.stringify(backend.probes)}`);
      context.skip(`WebGPU unavailable in this Chromium: ${JSON.stringify(backend.probes)}`);
    }
    expect(backend.adapter).toMatchObject({ shaderF16: false });
    const started = performance.now();
    const report = await runPageFunction<WebGpuAttentionReport>(browserPage.page, 'qaqWebGpuAttention', { repeats: 3 }, { timeoutMs: 280_000 });
    console.info(`[webgpu attention] ${report.results.length} cases in ${Math.round(performance.now() - started)} ms, feeds ${report.halfPrecisionInputs}, sessions ${JSON.stringify(report.sessions)}`);
    for (const result of report.results) console.info(`[webgpu attention] ${describeResult(result)}`);
    // 'auto' chose float32 from the adapter (no shader-f16).
    expect(report.halfPrecisionInputs).toBe('float32');
    expect(report.wideningBytes).toBeGreaterThan(0);
    // Every session was created with requirePlacement: 'webgpu' and reports all its nodes on WebGPU.
    expect(report.sessions.length).toBeGreaterThan(0);
    for (const session of report.sessions) {
      expect(session.provider).toBe('webgpu');
      expect(Object.keys(session.placement ?? {})).toEqual(['webgpu']);
      expect(session.placement?.['webgpu']).toBeGreaterThan(100);
    }
    expect(report.results.map((result) => result.name)).toEqual(COMPARISON_CASES.map((testCase) => testCase.name));
    const widths = { keys: new Set<number>(), values: new Set<number>() };
    for (const result of report.results) {
      expect(result.outputError, result.name).toBeLessThan(OUTPUT_TOLERANCE);
      expect(result.probabilityError, result.name).toBeLessThan(PROBABILITY_TOLERANCE);
      expect(result.maskedNonZero, result.name).toBe(0);
      result.keyWidths.forEach((bits) => widths.keys.add(bits));
      result.valueWidths.forEach((bits) => widths.values.add(bits));
    }
    expect([...widths.keys].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 16]);
    expect([...widths.values].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 16]);
  });

  it('fed fp16 on this adapter, the graph does not run (so the automatic float32 choice is what makes it work)', async (context) => {
    if (backend.provider !== 'webgpu') context.skip('WebGPU unavailable');
    const attempt = await runPageFunction<{ result?: ComparisonResult; error?: string; code?: string }>(browserPage.page, 'qaqFloat16Attempt', undefined, { timeoutMs: 120_000 });
    console.info(`[webgpu attention] fed float16 on SwiftShader: ${attempt.error ?? JSON.stringify(attempt.result)}`);
    expect(attempt.result).toBeUndefined();
    expect(attempt.error).toMatch(/f16|float16|shader/i);
  });

  it('raised no uncaught page errors', () => {
    expect(browserPage.console.entries.filter((entry) => entry.type === 'pageerror')).toEqual([]);
  });
});
