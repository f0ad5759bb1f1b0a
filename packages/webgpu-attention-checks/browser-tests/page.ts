// The page of the WebGPU attention checks (bundled by esbuild in the test setup; onnxruntime-web from the import
// map). Functions the Node side calls through Playwright; they return plain JSON.
import type { Backend, BackendSession, SessionOptions } from '@qaq/backend-spec';
import { createWebBackend, type WebBackend, type WebProviderName } from '@qaq/backend-web';
import { GraphAttentionKernel, loadLanguageModel } from '@qaq/runtime';
import { COMPARISON_CASES, compareWithReference, type ComparisonResult } from '../src/index.js';

let backendPromise: Promise<WebBackend> | undefined;
/** The page's one backend: WebGPU first, placement log captured (must be set up before any session). */
function pageBackend(): Promise<WebBackend> {
  backendPromise ??= createWebBackend({ providers: ['webgpu', 'wasm'] satisfies WebProviderName[], wasmPaths: '/ort/', numThreads: 1, capturePlacementLog: true });
  return backendPromise;
}

export interface PageBackendReport {
  readonly provider: string;
  readonly adapter: unknown;
  readonly probes: readonly unknown[];
}

async function qaqAttentionBackend(): Promise<PageBackendReport> {
  const backend = await pageBackend();
  return { provider: backend.provider, adapter: backend.adapter, probes: backend.probes };
}

/** Node placement of every session a kernel created, as backend-web's requirePlacement counted it. */
interface RecordedSession {
  readonly provider: string;
  readonly placement: Readonly<Record<string, number>> | undefined;
}

/**
 * The backend seen by the kernel, recording each session's placement. It forwards `adapter` and `provider`, which
 * the kernel reads to choose its feeds and session config.
 */
function recordingBackend(backend: WebBackend, sessions: RecordedSession[]): Backend {
  return {
    specificationVersion: backend.specificationVersion,
    name: backend.name,
    capabilities: backend.capabilities,
    probe: () => backend.probe(),
    createTensor: (type, data, dimensions) => backend.createTensor(type, data, dimensions),
    createSession: async (model: Uint8Array, options?: SessionOptions): Promise<BackendSession> => {
      const session = await backend.createSession(model, options);
      sessions.push({ provider: session.provider, placement: (session as { placement?: Readonly<Record<string, number>> }).placement });
      return session;
    },
    adapter: backend.adapter,
    provider: backend.provider,
  } as Backend;
}

/** GPU-only session options: WebGPU, and creation refused unless every node runs there. */
const gpuOnly = { executionProviders: ['webgpu'], requirePlacement: 'webgpu' } as SessionOptions;

export interface WebGpuAttentionReport {
  readonly halfPrecisionInputs: string;
  readonly results: readonly ComparisonResult[];
  readonly sessions: readonly RecordedSession[];
  readonly wideningBytes: number;
}

/** Every comparison case on WebGPU through GraphAttentionKernel with its automatic feed choice. */
async function qaqWebGpuAttention(input: { repeats?: number } = {}): Promise<WebGpuAttentionReport> {
  const backend = await pageBackend();
  const sessions: RecordedSession[] = [];
  const kernel = new GraphAttentionKernel({ backend: recordingBackend(backend, sessions), session: gpuOnly });
  const results: ComparisonResult[] = [];
  for (const testCase of COMPARISON_CASES) results.push(await compareWithReference(kernel, testCase, input.repeats ?? 2));
  const report = { halfPrecisionInputs: kernel.halfPrecisionInputs, results, sessions, wideningBytes: kernel.wideningBytes };
  await kernel.dispose();
  return report;
}

/** The same graph fed fp16 on this device: refused or failing (no shader-f16), never silently wrong. */
async function qaqFloat16Attempt(): Promise<{ result?: ComparisonResult; error?: string; code?: string }> {
  const backend = await pageBackend();
  const kernel = new GraphAttentionKernel({ backend, session: gpuOnly, halfPrecisionInputs: 'float16' });
  try {
    return { result: await compareWithReference(kernel, COMPARISON_CASES[0]!, 0) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { error: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) };
  } finally {
    await kernel.dispose();
  }
}

/** Whether model bytes are a compact-cache attention graph (its inputs are named `keys.bit_widths`, ...). */
function isAttentionGraph(model: Uint8Array): boolean {
  if (model.byteLength > 4_000_000) return false;
  const marker = Array.from('keys.bit_widths', (character) => character.charCodeAt(0));
  search: for (let start = 0; start + marker.length <= model.byteLength; start += 1) {
    for (let index = 0; index < marker.length; index += 1) if (model[start + index] !== marker[index]) continue search;
    return true;
  }
  return false;
}

export interface SegmentedModelReport {
  readonly provider: string;
  readonly attentionSessions: readonly RecordedSession[];
  readonly segmentSessions: readonly RecordedSession[];
  /** Whether the attention sessions were asked to keep onnxruntime's QDQ rewrites off (the kernel's config entry). */
  readonly attentionQdqRewrites: 'off' | 'on' | 'unknown';
  /** Logits after the prompt and after each forced token: [steps + 1][vocabulary]. */
  readonly logits: readonly number[][];
  readonly loadMilliseconds: number;
  readonly promptMilliseconds: number;
  readonly stepMilliseconds: readonly number[];
  readonly bitsPerElement: number;
}

/**
 * The segmented model with the QAQ cache and attention as the graph on WebGPU: the GGUF fetched from this server,
 * segments on WebGPU (placement not required: their shape arithmetic may sit on the CPU, as onnxruntime chooses),
 * every attention session created with `requirePlacement: 'webgpu'`. Runs the prompt, then feeds `forcedTokens`
 * one by one (the Node reference's greedy choices), returning the logits after each.
 */
async function qaqSegmentedModel(input: { modelUrl: string; promptIds: number[]; forcedTokens: number[] }): Promise<SegmentedModelReport> {
  const backend = await pageBackend();
  const response = await fetch(input.modelUrl);
  if (!response.ok) throw new Error(`GET ${input.modelUrl}: ${response.status}`);
  const gguf = new Uint8Array(await response.arrayBuffer());
  const sessions: { readonly attention: boolean; readonly recorded: RecordedSession }[] = [];
  let attentionQdqRewrites: SegmentedModelReport['attentionQdqRewrites'] = 'unknown';
  const recording: Backend = {
    specificationVersion: backend.specificationVersion,
    name: backend.name,
    capabilities: backend.capabilities,
    probe: () => backend.probe(),
    createTensor: (type, data, dimensions) => backend.createTensor(type, data, dimensions),
    createSession: async (model: Uint8Array, options?: SessionOptions): Promise<BackendSession> => {
      const attention = isAttentionGraph(model);
      if (attention) attentionQdqRewrites = (options as { configEntries?: Record<string, string> } | undefined)?.configEntries?.['session.disable_quant_qdq'] === '1' ? 'off' : 'on';
      const session = await backend.createSession(model, attention ? { ...options, requirePlacement: 'webgpu' } as SessionOptions : options);
      sessions.push({ attention, recorded: { provider: session.provider, placement: (session as { placement?: Readonly<Record<string, number>> }).placement } });
      return session;
    },
    adapter: backend.adapter,
    provider: backend.provider,
  } as Backend;
  let started = performance.now();
  const loaded = await loadLanguageModel({ backend: recording, gguf, kv: 'qaq', attention: 'graph', session: { executionProviders: ['webgpu'] } });
  const loadMilliseconds = performance.now() - started;
  const logits: number[][] = [];
  started = performance.now();
  logits.push(Array.from(await loaded.model.forward(Int32Array.from(input.promptIds))));
  const promptMilliseconds = performance.now() - started;
  const stepMilliseconds: number[] = [];
  for (const token of input.forcedTokens) {
    started = performance.now();
    logits.push(Array.from(await loaded.model.forward(Int32Array.of(token))));
    stepMilliseconds.push(performance.now() - started);
  }
  const report: SegmentedModelReport = {
    provider: loaded.model.provider,
    attentionSessions: sessions.filter((entry) => entry.attention).map((entry) => entry.recorded),
    segmentSessions: sessions.filter((entry) => !entry.attention).map((entry) => entry.recorded),
    attentionQdqRewrites,
    logits,
    loadMilliseconds,
    promptMilliseconds,
    stepMilliseconds,
    bitsPerElement: loaded.model.memory().bitsPerElement,
  };
  await loaded.model.dispose();
  return report;
}

Object.assign(globalThis, { qaqAttentionBackend, qaqWebGpuAttention, qaqFloat16Attempt, qaqSegmentedModel });
const status = globalThis.document?.getElementById('status');
if (status) status.textContent = 'ready';
