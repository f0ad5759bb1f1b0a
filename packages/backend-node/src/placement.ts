import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionProviderName } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { readGraphNodes } from './onnx-graph-nodes.js';
import { parsePlacementLog, shortProviderName } from './placement-log.js';

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
}

// Runs in a child process: onnxruntime writes its log to the process's stderr from native code, which JavaScript
// cannot intercept in-process. The child loads the model at verbose severity and saves the optimized graph.
const childScript = `
const ort = require(process.argv[1]);
const [modelPath, optimizedPath, providers, level] = process.argv.slice(2);
ort.InferenceSession.create(modelPath, {
  executionProviders: JSON.parse(providers), graphOptimizationLevel: level,
  logSeverityLevel: 0, logVerbosityLevel: 0, optimizedModelFilePath: optimizedPath,
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

/**
 * Which provider onnxruntime-node placed each node on, for `model` on `providers` (in preference order). It loads
 * the model in a child process with the verbose log on, parses the "Node placements" section, and, when the log
 * says only "All nodes placed on [X]", takes the node names from the optimized model the child saved. Use it to
 * prove that nothing fell back to the CPU on a GPU provider.
 */
export async function nodePlacement(
  model: Uint8Array,
  providers: readonly ExecutionProviderName[],
  options: NodePlacementOptions = {},
): Promise<NodePlacement[]> {
  const folder = await mkdtemp(join(tmpdir(), 'qaq-placement-'));
  try {
    const modelPath = join(folder, 'model.onnx');
    const optimizedPath = join(folder, 'optimized.onnx');
    await writeFile(modelPath, model);
    const ortEntry = createRequire(import.meta.url).resolve('onnxruntime-node');
    const level = options.graphOptimizationLevel ?? 'all';
    const { code, stderr } = await runChild([ortEntry, modelPath, optimizedPath, JSON.stringify(providers), level], options.timeoutMs ?? 120_000);
    if (code !== 0) {
      const failure = /QAQ_PLACEMENT_FAILED (.*)/.exec(stderr)?.[1] ?? stderr.slice(-2000);
      const code = /provider|adapter|shared library|CUDA|WebGPU/i.test(failure) ? 'provider-unavailable' : 'invalid-model';
      throw new QaqError(code, `Placement check failed: ${failure}`, { details: { providers: [...providers], reason: failure } });
    }
    const blocks = parsePlacementLog(stderr);
    if (blocks.length === 0) {
      throw new QaqError('run-failed', 'onnxruntime logged no node placements', { details: { providers: [...providers] } });
    }
    const placements: NodePlacement[] = [];
    for (const block of blocks) {
      const provider = shortProviderName(block.executionProvider);
      const nodes = block.nodes ?? readGraphNodes(await readFile(optimizedPath));
      if (nodes.length !== block.nodeCount) {
        throw new QaqError('run-failed', `onnxruntime placed ${block.nodeCount} nodes on ${block.executionProvider}, ${nodes.length} were found`, {
          details: { executionProvider: block.executionProvider, logged: block.nodeCount, found: nodes.length },
        });
      }
      for (const node of nodes) placements.push({ node: node.name, opType: node.opType, provider, executionProvider: block.executionProvider });
    }
    return placements;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
