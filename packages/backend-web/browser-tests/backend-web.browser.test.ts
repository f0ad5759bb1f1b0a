// Browser checks of @qaq/backend-web in Debian's Chromium (playwright-core): the conformance suite on WebGPU
// (SwiftShader) and on WebAssembly, node placement from onnxruntime's verbose console log, and GPU residency.
// Runs only in `pnpm test:browser` (vitest.browser.config.ts). Set QAQ_REQUIRE_WEBGPU=1 to fail instead of
// falling back when WebGPU cannot start; QAQ_BROWSER_ARTIFACTS=<dir> keeps screenshots.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, chromiumExecutablePath, openBrowserPage, runPageFunction, type BrowserPage, type ConsoleEntry } from '@qaq/browser-testing';
import { isQaqError } from '@qaq/errors';
import { assertPlacedOn, parsePlacementLog } from '../src/index.js';
import type { PageBackendReport, PageConformanceReport } from './browser-page.js';
import { startPageServer, type PageServer } from './page-server.js';

const requireWebGpu = process.env['QAQ_REQUIRE_WEBGPU'] === '1';
const artifacts = process.env['QAQ_BROWSER_ARTIFACTS'] ?? join(tmpdir(), 'qaq-browser-artifacts');

/** The console messages between the page's begin/end markers of one placement run. */
function linesBetweenMarkers(entries: readonly ConsoleEntry[], fixture: string): string[] {
  const texts = entries.map((entry) => entry.text);
  const begin = texts.indexOf(`qaq-placement-begin ${fixture}`);
  const end = texts.indexOf(`qaq-placement-end ${fixture}`);
  expect(begin, 'the placement run logged its begin marker').toBeGreaterThanOrEqual(0);
  expect(end, 'the placement run logged its end marker').toBeGreaterThan(begin);
  return texts.slice(begin + 1, end);
}

function describeFailures(report: PageConformanceReport): string {
  return report.results
    .filter((result) => result.status !== 'passed')
    .map((result) => `${result.id}: ${result.status} ${result.error?.message ?? result.reason ?? ''}`)
    .join('\n');
}

let server: PageServer;

beforeAll(async () => {
  if (!chromiumAvailable()) {
    throw new Error(`No Chromium at ${chromiumExecutablePath()}: run scripts/ensure-chromium.sh first (pnpm test:browser does)`);
  }
  server = await startPageServer();
  mkdirSync(artifacts, { recursive: true });
});

afterAll(async () => {
  await server?.close();
});

describe('Chromium with WebGPU on SwiftShader', () => {
  let browserPage: BrowserPage;
  let backend: PageBackendReport;

  beforeAll(async () => {
    browserPage = await openBrowserPage(server.url, 'webgpu');
    backend = await runPageFunction<PageBackendReport>(browserPage.page, 'qaqBackend', { providers: ['webgpu', 'wasm'] });
    const webgpu = backend.probes.find((probe) => (probe as { name: string }).name === 'webgpu');
    console.info(`[browser webgpu mode] provider that ran: ${backend.provider}; webgpu probe: ${JSON.stringify(webgpu)}`);
  });

  afterAll(async () => {
    await browserPage?.screenshot(join(artifacts, 'backend-web-webgpu.png')).catch(() => undefined);
    await browserPage?.close();
  });

  it('chooses WebGPU, with the SwiftShader adapter and no shader-f16', (context) => {
    if (backend.provider !== 'webgpu') {
      if (requireWebGpu) throw new Error(`WebGPU did not start: ${JSON.stringify(backend.probes)}`);
      context.skip(`WebGPU unavailable in this Chromium, so WASM ran: ${JSON.stringify(backend.probes)}`);
    }
    const adapter = backend.adapter as { architecture: string; isFallbackAdapter: boolean | undefined; shaderF16: boolean };
    expect(adapter.architecture).toBe('swiftshader');
    expect(adapter.shaderF16).toBe(false);
    expect(backend.probes).toContainEqual(expect.objectContaining({ name: 'webgpu', available: true }));
    expect(backend.probes).toContainEqual(expect.objectContaining({ name: 'wasm', available: true }));
  });

  it('passes every conformance check on the provider it chose', async () => {
    const report = await runPageFunction<PageConformanceReport>(browserPage.page, 'qaqConformance', { providers: ['webgpu', 'wasm'] });
    console.info(`[browser webgpu mode] conformance on ${report.sessionProvider}: ${report.results.filter((result) => result.status === 'passed').length}/${report.results.length} passed in ${Math.round(report.milliseconds)} ms`);
    expect(report.sessionProvider).toBe(backend.provider);
    expect(describeFailures(report)).toBe('');
    expect(report.results.length).toBeGreaterThanOrEqual(14);
  });

  it('places every node of the fp32 fixtures on WebGpuExecutionProvider (verbose log via the console)', async (context) => {
    if (backend.provider !== 'webgpu') context.skip('WebGPU unavailable');
    const expectedNodes = { add: 1, matmul: 1, softmax: 1, multiOutput: 3 } as const;
    for (const [fixture, nodeCount] of Object.entries(expectedNodes)) {
      browserPage.console.clear();
      const run = await runPageFunction<{ provider: string }>(browserPage.page, 'qaqPlacementRun', { fixture });
      expect(run.provider).toBe('webgpu');
      const blocks = parsePlacementLog(linesBetweenMarkers(browserPage.console.entries, fixture));
      const counts = assertPlacedOn(blocks, 'webgpu');
      expect(counts, fixture).toEqual({ webgpu: nodeCount });
    }
  });

  it('fails loudly when a node of a GPU-only graph lands on the CPU', async (context) => {
    if (backend.provider !== 'webgpu') context.skip('WebGPU unavailable');
    browserPage.console.clear();
    await runPageFunction(browserPage.page, 'qaqPlacementRun', { fixture: 'multiOutput', forceCpuNodeNames: ['negate_node'] });
    const blocks = parsePlacementLog(linesBetweenMarkers(browserPage.console.entries, 'multiOutput'));
    let thrown: unknown;
    try {
      assertPlacedOn(blocks, 'webgpu');
    } catch (error) {
      thrown = error;
    }
    expect(isQaqError(thrown, 'node-off-gpu')).toBe(true);
    expect((thrown as { details: { misplaced: unknown[] } }).details.misplaced).toEqual([
      { opType: 'Neg', name: 'negate_node', executionProvider: 'CPUExecutionProvider' },
    ]);
  });

  it('runs every node of the compact-cache attention graph (@qaq/onnx-graph) on WebGPU once QDQ rewrites are off', async (context) => {
    if (backend.provider !== 'webgpu') context.skip('WebGPU unavailable');
    const placementAt = async (configEntries?: Record<string, string>) => {
      browserPage.console.clear();
      const run = await runPageFunction<{ provider: string; nodeCount: number; loadError?: string }>(browserPage.page, 'qaqCompactAttentionPlacement', {
        graphOptimizationLevel: 'all',
        ...(configEntries === undefined ? {} : { configEntries }),
      });
      expect(run.loadError).toBeUndefined();
      return parsePlacementLog(linesBetweenMarkers(browserPage.console.entries, 'compactAttention'));
    };
    // Default optimizations: onnxruntime's QDQ propagation moves the graph's DequantizeLinear past Reshape/Transpose
    // and inserts QuantizeLinear nodes, which the WebGPU provider has no kernel for (measured: 5 on the CPU).
    const byDefault = await placementAt();
    const offGpu = byDefault.filter((block) => block.provider !== 'webgpu').flatMap((block) => (block.nodes ?? []).map((node) => node.opType));
    console.info(`[browser webgpu mode] compact attention graph, default optimizations: ${JSON.stringify(Object.fromEntries(byDefault.map((block) => [block.provider, block.nodeCount])))} (off the GPU: ${offGpu.join(', ') || 'none'})`);
    const counts = assertPlacedOn(await placementAt({ 'session.disable_quant_qdq': '1' }), 'webgpu');
    console.info(`[browser webgpu mode] compact attention graph with session.disable_quant_qdq=1: ${JSON.stringify(counts)}`);
  });

  it("refuses, in the page, a session marked GPU-only that has CPU nodes (requirePlacement: 'webgpu')", async (context) => {
    if (backend.provider !== 'webgpu') context.skip('WebGPU unavailable');
    browserPage.console.clear();
    type Outcome = { placement?: Record<string, number>; code?: string; misplaced?: unknown };
    const require = (input: Record<string, unknown>) => runPageFunction<Outcome>(browserPage.page, 'qaqRequirePlacement', input);
    expect(await require({ fixture: 'multiOutput' })).toEqual({ placement: { webgpu: 3 } });
    expect(await require({ fixture: 'multiOutput', forceCpuNodeNames: ['square_node'] })).toEqual({
      code: 'node-off-gpu',
      misplaced: [{ opType: 'Mul', name: 'square_node', executionProvider: 'CPUExecutionProvider' }],
    });
    const compactByDefault = await require({ compactAttention: true });
    expect(compactByDefault.code).toBe('node-off-gpu');
    const compactWithoutQdq = await require({ compactAttention: true, configEntries: { 'session.disable_quant_qdq': '1' } });
    expect(compactWithoutQdq.code).toBeUndefined();
    expect(Object.keys(compactWithoutQdq.placement ?? {})).toEqual(['webgpu']);
    // The verbose session log was captured, not printed: the page console holds no placement lines from these.
    expect(browserPage.console.matching(/qaq-placement|VerifyEachNodeIsAssignedToAnEp/).length).toBe(0);
  });

  it('keeps outputs and preallocated storage on the GPU, written in place run after run', async (context) => {
    if (backend.provider !== 'webgpu') context.skip('WebGPU unavailable');
    const residency = await runPageFunction<Record<string, unknown>>(browserPage.page, 'qaqGpuResidency');
    const expectedSteps = [0, 1, 2].map((step) => [1, 2, 3, 4, 5, 6, 7, 8].map((value) => value + step));
    expect(residency).toEqual({
      firstLocation: 'gpu-buffer',
      firstValues: [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5],
      chainedValues: [2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5, 16.5],
      readAfterDispose: 'tensor-disposed',
      returned: [true, true, true],
      stepValues: expectedSteps,
      fedBack: expectedSteps,
      fromCpuSession: [0, 1, 2].map((step) => [1, 2, 3, 4, 5, 6, 7, 8].map((value) => value + 100 + step)),
      seededValues: [8, 7, 6, 5, 4, 3, 2, 1],
      fromSeededValues: [9, 9, 9, 9, 9, 9, 9, 9],
      storageLocation: 'gpu-buffer',
    });
  });

  it('raised no uncaught page errors', () => {
    expect(browserPage.console.entries.filter((entry) => entry.type === 'pageerror')).toEqual([]);
  });
});

describe('Chromium without WebGPU flags (WASM fallback)', () => {
  let browserPage: BrowserPage;

  beforeAll(async () => {
    browserPage = await openBrowserPage(server.url, 'plain');
  });

  afterAll(async () => {
    await browserPage?.screenshot(join(artifacts, 'backend-web-plain.png')).catch(() => undefined);
    await browserPage?.close();
  });

  it('falls back to wasm, says so, and passes every conformance check there', async () => {
    const report = await runPageFunction<PageConformanceReport>(browserPage.page, 'qaqConformance', { providers: ['webgpu', 'wasm'] });
    const webgpu = report.probes.find((probe) => (probe as { name: string }).name === 'webgpu') as { available: boolean; reason?: string };
    console.info(`[browser plain mode] provider that ran: ${report.provider} (webgpu: ${webgpu.reason ?? 'available'}); conformance ${report.results.filter((result) => result.status === 'passed').length}/${report.results.length} passed in ${Math.round(report.milliseconds)} ms`);
    expect(report.provider).toBe('wasm');
    expect(report.sessionProvider).toBe('wasm');
    expect(webgpu.available).toBe(false);
    expect(['missing-adapter', 'not-supported']).toContain(webgpu.reason);
    expect((report.wasm as { simd: boolean }).simd).toBe(true);
    expect(describeFailures(report)).toBe('');
  });
});
