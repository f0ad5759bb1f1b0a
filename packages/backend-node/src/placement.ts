import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfigEntries } from '@qaq/backend-common';
import type { ExecutionProviderName } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { readGraphNodes, type GraphNode } from './onnx-graph-nodes.js';
import { parsePlacementLog, shortProviderName } from './placement-log.js';
import { cudaLibraryPlan, processCudaProbeEnvironment } from './probe.js';

/** Where onnxruntime placed one node of the optimized graph. */
export interface NodePlacement {
  readonly node: string;
  readonly opType: string;
  /** The spec's provider name ('cpu', 'cuda', 'webgpu'), or onnxruntime's when it has no short name. */
  readonly provider: string;
  /** onnxruntime's own name, e.g. 'CUDAExecutionProvider'. */
  readonly executionProvider: string;
}

export interface NodePlacementOptions {
  /** Same meaning as the session option (default 'all'): placement is of the graph after these rewrites. */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Give up after this long (default 120 s). */
  readonly timeoutMs?: number;
  /**
   * onnxruntime session config entries, as the session that will run the model gets them (e.g.
   * `session.disable_quant_qdq: '1'`, which changes which nodes the optimizer makes): placement is of that graph.
   */
  readonly configEntries?: Readonly<Record<string, string>>;
}

// Runs in a child process: onnxruntime writes its log to the process's stderr from native code, which JavaScript
// cannot intercept in-process. The child loads the model at verbose severity and saves the optimized graph.
const childScript = `
const ort = require(process.argv[1]);
const [modelPath, optimizedPath, providers, level, preload, configEntries] = process.argv.slice(2);
// CUDA/cuDNN libraries found by the parent's probe: loaded here too, so the provider finds them (RTLD_NOW|RTLD_GLOBAL|RTLD_NODELETE).
for (const library of JSON.parse(preload)) {
  try { process.dlopen({ exports: {} }, library, require('os').constants.dlopen.RTLD_NOW | require('os').constants.dlopen.RTLD_GLOBAL | 0x1000); } catch {}
}
ort.InferenceSession.create(modelPath, {
  executionProviders: JSON.parse(providers), graphOptimizationLevel: level,
  logSeverityLevel: 0, logVerbosityLevel: 0, optimizedModelFilePath: optimizedPath, extra: JSON.parse(configEntries),
}).then((session) => session.release()).then(
  () => process.exit(0),
  (error) => { process.stderr.write('\\nQAQ_PLACEMENT_FAILED ' + error.message + '\\n'); process.exit(3); });
`;

function runChild(args: string[], timeoutMs: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', childScript, ...args], { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, _stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stderr });
    });
  });
}

/** A session's verbose initialization log and the nodes of the graph it optimized. */
export interface SessionPlacementLog {
  /** onnxruntime's stderr while the session initialized at verbose severity. */
  readonly log: string;
  /** The optimized graph's nodes (the log names none when one provider takes them all). */
  readonly optimizedNodes: readonly GraphNode[];
}

/** CUDA/cuDNN libraries the probe would load from the install folders, for a child process to load as well. */
function cudaPreloadPaths(): string[] {
  const plan = cudaLibraryPlan(processCudaProbeEnvironment());
  if (plan === undefined) return [];
  const libraries = [...plan.requirements.linked, ...plan.requirements.loadedAtRuntime];
  return libraries.flatMap((library) => {
    const path = plan.folders.map((folder) => join(folder, library)).find((candidate) => existsSync(candidate));
    return path === undefined ? [] : [path];
  });
}

/**
 * Loads `model` on `providers` in a child Node process at verbose log severity and returns its log (onnxruntime
 * writes it from native code to the process's stderr, which JavaScript cannot capture in-process) and the nodes of
 * the optimized graph it saved. Feed the result to `placementsFromLog` or `assertGpuPlacement`.
 */
export async function sessionPlacementLog(
  model: Uint8Array,
  providers: readonly ExecutionProviderName[],
  options: NodePlacementOptions = {},
): Promise<SessionPlacementLog> {
  validateConfigEntries(options.configEntries);
  const folder = await mkdtemp(join(tmpdir(), 'qaq-placement-'));
  try {
    const modelPath = join(folder, 'model.onnx');
    const optimizedPath = join(folder, 'optimized.onnx');
    await writeFile(modelPath, model);
    const ortEntry = createRequire(import.meta.url).resolve('onnxruntime-node');
    const level = options.graphOptimizationLevel ?? 'all';
    const preload = providers.includes('cuda') ? cudaPreloadPaths() : [];
    const { code, stderr } = await runChild(
      [ortEntry, modelPath, optimizedPath, JSON.stringify(providers), level, JSON.stringify(preload), JSON.stringify(options.configEntries ?? {})],
      options.timeoutMs ?? 120_000,
    );
    if (code !== 0) {
      const failure = /QAQ_PLACEMENT_FAILED (.*)/.exec(stderr)?.[1] ?? stderr.slice(-2000);
      const code = /provider|adapter|shared library|CUDA|WebGPU/i.test(failure) ? 'provider-unavailable' : 'invalid-model';
      throw new QaqError(code, `Placement check failed: ${failure}`, { details: { providers: [...providers], reason: failure } });
    }
    // The optimized model holds the weights too: read it only when the log names no nodes.
    const namesNoNodes = /All nodes placed on/.test(stderr) && existsSync(optimizedPath);
    return { log: stderr, optimizedNodes: namesNoNodes ? readGraphNodes(await readFile(optimizedPath)) : [] };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * The placement of every node from a verbose session log. When onnxruntime only logs "All nodes placed on [X]",
 * the node names come from `optimizedNodes` (the optimized graph), and the counts must agree.
 */
export function placementsFromLog(log: string, optimizedNodes?: readonly GraphNode[]): NodePlacement[] {
  const blocks = parsePlacementLog(log);
  if (blocks.length === 0) {
    throw new QaqError('run-failed', 'onnxruntime logged no node placements (the log must be at verbose severity)', { details: {} });
  }
  const placements: NodePlacement[] = [];
  for (const block of blocks) {
    const provider = shortProviderName(block.executionProvider);
    const nodes = block.nodes ?? optimizedNodes ?? [];
    if (nodes.length !== block.nodeCount) {
      throw new QaqError('run-failed', `onnxruntime placed ${block.nodeCount} nodes on ${block.executionProvider}, ${nodes.length} were found`, {
        details: { executionProvider: block.executionProvider, logged: block.nodeCount, found: nodes.length },
      });
    }
    for (const node of nodes) placements.push({ node: node.name, opType: node.opType, provider, executionProvider: block.executionProvider });
  }
  return placements;
}

/**
 * Which provider onnxruntime-node placed each node on, for `model` on `providers` (in preference order): the
 * verbose log of a child process (`sessionPlacementLog`) read by `placementsFromLog`. Use it to prove that nothing
 * fell back to the CPU on a GPU provider.
 */
export async function nodePlacement(
  model: Uint8Array,
  providers: readonly ExecutionProviderName[],
  options: NodePlacementOptions = {},
): Promise<NodePlacement[]> {
  const { log, optimizedNodes } = await sessionPlacementLog(model, providers, options);
  return placementsFromLog(log, optimizedNodes);
}
