// The page of the browser checks (bundled by esbuild in the test setup; onnxruntime-web comes from the page's
// import map). It defines functions the Node side calls through Playwright and returns plain JSON.
import { fixtureModel, runConformanceChecks, type ConformanceResult, type FixtureName } from '@qaq/backend-conformance';
import { buildCompactAttentionGraph, type CompactAttentionGraphOptions } from '@qaq/onnx-graph';
import { createWebBackend, type WebBackend, type WebProviderName } from '../src/index.js';

export interface SerializedError {
  readonly name: string;
  readonly code: string | undefined;
  readonly message: string;
}

export interface PageBackendReport {
  readonly provider: WebProviderName;
  readonly probes: readonly unknown[];
  readonly adapter: unknown;
  readonly wasm: unknown;
  readonly crossOriginIsolated: boolean;
  readonly userAgent: string;
}

export interface PageConformanceReport extends PageBackendReport {
  readonly sessionProvider: string;
  readonly results: readonly ({ id: string; title: string; status: string; reason?: string; error?: SerializedError })[];
  readonly milliseconds: number;
}

function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, code: typeof code === 'string' ? code : undefined, message: error.message };
  }
  return { name: 'unknown', code: undefined, message: String(error) };
}

function serializeResult(result: ConformanceResult): PageConformanceReport['results'][number] {
  if (result.status === 'failed') return { id: result.id, title: result.title, status: result.status, error: serializeError(result.error) };
  if (result.status === 'skipped') return { id: result.id, title: result.title, status: result.status, reason: result.reason };
  return { id: result.id, title: result.title, status: result.status };
}

const backends = new Map<string, Promise<WebBackend>>();
/** One backend per provider list on the page: probes run once, and onnxruntime-web's module is per page anyway. */
function backendFor(providers: readonly WebProviderName[]): Promise<WebBackend> {
  const key = providers.join(',');
  let backend = backends.get(key);
  if (backend === undefined) {
    backend = createWebBackend({ providers, wasmPaths: '/ort/', numThreads: 1, capturePlacementLog: true });
    backends.set(key, backend);
  }
  return backend;
}

function reportOf(backend: WebBackend): PageBackendReport {
  return {
    provider: backend.provider,
    probes: backend.probes,
    adapter: backend.adapter,
    wasm: backend.wasm,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    userAgent: navigator.userAgent,
  };
}

/** Creates the backend (probing each provider) and says which provider it chose. */
async function qaqBackend(input: { providers: WebProviderName[] }): Promise<PageBackendReport> {
  return reportOf(await backendFor(input.providers));
}

/** The whole conformance suite against the backend, sessions on the backend's chosen provider. */
async function qaqConformance(input: { providers: WebProviderName[] }): Promise<PageConformanceReport> {
  const backend = await backendFor(input.providers);
  const started = performance.now();
  const results = await runConformanceChecks(() => backend, { sessionOptions: { executionProviders: [backend.provider] } });
  const probeSession = await backend.createSession(fixtureModel('add'), { executionProviders: [backend.provider] });
  const sessionProvider = probeSession.provider;
  await probeSession.dispose();
  return { ...reportOf(backend), sessionProvider, results: results.map(serializeResult), milliseconds: performance.now() - started };
}

/**
 * Loads a fixture with verbose logging (onnxruntime prints node placement to the console, which the Node side
 * captures) and runs it once. Console markers delimit this session's log.
 */
async function qaqPlacementRun(input: { fixture: FixtureName; forceCpuNodeNames?: string[] }): Promise<{ provider: string }> {
  const backend = await backendFor(['webgpu']);
  console.log(`qaq-placement-begin ${input.fixture}`);
  const session = await backend.createSession(fixtureModel(input.fixture), {
    executionProviders: ['webgpu'],
    logVerbosity: 'verbose',
    ...(input.forceCpuNodeNames === undefined ? {} : { forceCpuNodeNames: input.forceCpuNodeNames }),
  });
  console.log(`qaq-placement-end ${input.fixture}`);
  await session.dispose();
  return { provider: session.provider };
}

/**
 * Device residency on WebGPU: gpu-buffer outputs stay on the GPU and feed the next run; a GPU tensor allocated once
 * is written in place by run after run (the KV-cache pattern); reads download correct values; dispose frees.
 */
async function qaqGpuResidency(): Promise<Record<string, unknown>> {
  const backend = await backendFor(['webgpu']);
  const a = backend.createTensor('float32', new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), [2, 4]);
  const b = backend.createTensor('float32', new Float32Array(8).fill(0.5), [2, 4]);
  const onGpu = await backend.createSession(fixtureModel('add'), { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' });
  const first = (await onGpu.run({ a, b }))['sum']!;
  const firstLocation = first.location;
  const firstValues = Array.from((await first.read()) as Float32Array);
  // The GPU output is fed straight back: sum2 = a + sum1 without leaving the device.
  const second = (await onGpu.run({ a, b: first }))['sum']!;
  const chainedValues = Array.from((await second.read()) as Float32Array);
  first.dispose();
  second.dispose();
  let readAfterDispose: string | undefined;
  try {
    await first.read();
  } catch (error) {
    readAfterDispose = serializeError(error).code;
  }
  // Storage allocated once and written in place, step after step.
  const storage = await backend.createGpuTensor('float32', [2, 4]);
  const zeros = backend.createTensor('float32', new Float32Array(8), [2, 4]);
  const onCpu = await backend.createSession(fixtureModel('add'), { executionProviders: ['webgpu'] });
  const returned: boolean[] = [];
  const stepValues: number[][] = [];
  const fedBack: number[][] = [];
  const fromCpuSession: number[][] = [];
  for (let step = 0; step < 3; step += 1) {
    b.data.fill(step);
    const outputs = await onGpu.run({ a, b }, { outputs: { sum: storage } });
    returned.push(outputs['sum'] === storage);
    stepValues.push(Array.from((await storage.read()) as Float32Array));
    // The same storage, read by the next run as an input (as a cache is): 0 + storage.
    const echoed = (await onCpu.run({ a: zeros, b: storage }))['sum']!;
    fedBack.push(Array.from((await echoed.read()) as Float32Array));
    // A session whose output is on the CPU writes the GPU storage too (one upload).
    b.data.fill(100 + step);
    await onCpu.run({ a, b }, { outputs: { sum: storage } });
    fromCpuSession.push(Array.from((await storage.read()) as Float32Array));
  }
  await onCpu.dispose();
  const seeded = await backend.createGpuTensor('float32', [2, 4], new Float32Array([8, 7, 6, 5, 4, 3, 2, 1]));
  const seededValues = Array.from(await seeded.read());
  const fromSeeded = (await onGpu.run({ a, b: seeded }))['sum']!;
  const fromSeededValues = Array.from((await fromSeeded.read()) as Float32Array);
  fromSeeded.dispose();
  seeded.dispose();
  storage.dispose();
  await onGpu.dispose();
  return { firstLocation, firstValues, chainedValues, readAfterDispose, returned, stepValues, fedBack, fromCpuSession, seededValues, fromSeededValues, storageLocation: storage.location };
}

/**
 * `requirePlacement: 'webgpu'` in the page: the backend reads the placement from the console itself and refuses a
 * session with nodes elsewhere. Returns the session's placement, or the error's code and details.
 */
async function qaqRequirePlacement(input: {
  fixture?: FixtureName;
  compactAttention?: boolean;
  forceCpuNodeNames?: string[];
  configEntries?: Record<string, string>;
}): Promise<{ placement?: Readonly<Record<string, number>>; code?: string; misplaced?: unknown }> {
  const backend = await backendFor(['webgpu']);
  const model = input.compactAttention === true ? buildCompactAttentionGraph(compactAttentionOptions).model : fixtureModel(input.fixture ?? 'add');
  try {
    const session = await backend.createSession(model, {
      executionProviders: ['webgpu'],
      requirePlacement: 'webgpu',
      ...(input.forceCpuNodeNames === undefined ? {} : { forceCpuNodeNames: input.forceCpuNodeNames }),
      ...(input.configEntries === undefined ? {} : { configEntries: input.configEntries }),
    });
    const placement = session.placement;
    await session.dispose();
    return placement === undefined ? {} : { placement };
  } catch (error) {
    const details = (error as { details?: { misplaced?: unknown } }).details;
    return { code: serializeError(error).code ?? serializeError(error).message, misplaced: details?.misplaced };
  }
}

/** A SmolLM2-sized layer of the compact-cache attention graph: 9 query heads, 3 KV heads, head dim 64. */
const compactAttentionOptions: CompactAttentionGraphOptions = {
  queryHeads: 9,
  kvHeads: 3,
  headDim: 64,
  groupLayout: 'token-layer-head',
  outlierCount: 2,
  outlierPositionBytes: 1,
  scoreScale: 0.125,
  slidingWindow: null,
  keys: { poolBits: [2, 4, 8, 16], slotIndexBytes: 2 },
  values: { poolBits: [2, 4, 8, 16], slotIndexBytes: 2 },
};

/**
 * Placement of the compact-cache attention graph (@qaq/onnx-graph, built here in the page for a SmolLM2-sized layer):
 * loaded on WebGPU with verbose logging between markers, as `qaqPlacementRun` does for the fixtures. Loading only —
 * the graph takes fp16 inputs, which SwiftShader (no shader-f16) cannot run.
 */
async function qaqCompactAttentionPlacement(input: { graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all'; configEntries?: Record<string, string> } = {}): Promise<{ provider: string; nodeCount: number; loadError?: string }> {
  const backend = await backendFor(['webgpu']);
  const graph = buildCompactAttentionGraph(compactAttentionOptions);
  console.log('qaq-placement-begin compactAttention');
  try {
    const session = await backend.createSession(graph.model, {
      executionProviders: ['webgpu'],
      logVerbosity: 'verbose',
      ...(input.graphOptimizationLevel === undefined ? {} : { graphOptimizationLevel: input.graphOptimizationLevel }),
      ...(input.configEntries === undefined ? {} : { configEntries: input.configEntries }),
    });
    console.log('qaq-placement-end compactAttention');
    await session.dispose();
    return { provider: session.provider, nodeCount: graph.nodeCount };
  } catch (error) {
    console.log('qaq-placement-end compactAttention');
    return { provider: 'none', nodeCount: graph.nodeCount, loadError: serializeError(error).message };
  }
}

Object.assign(globalThis, { qaqBackend, qaqConformance, qaqPlacementRun, qaqGpuResidency, qaqCompactAttentionPlacement, qaqRequirePlacement });
const status = document.getElementById('status');
if (status !== null) status.textContent = 'ready';
