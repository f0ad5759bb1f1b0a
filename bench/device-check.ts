/**
 * The device check (issue #7): on a machine with an NVIDIA GPU, probes the providers, runs the backend conformance
 * suite on CUDA (and WebGPU when an adapter appears), checks where the decoder's nodes run, generates with the default
 * model, and prints decode tokens/s, KV bytes and host↔device bytes per step for fp16, ORT int4 and QAQ at 2k/8k
 * context as a table. `--cpu` runs the very same path on the CPU provider with short contexts (CI and this machine).
 *
 * Attention in the segmented methods runs where `--attention` says: 'wasm-kernel' (default: the WebAssembly kernel on
 * the CPU, between the GPU segment graphs) or 'graph' (ONNX graphs on the same provider).
 *
 * Run: node --conditions=source --import tsx bench/device-check.ts [--cpu] (or scripts/device-check.sh, which also
 * runs a bundled copy on a machine without pnpm). Prints the table on stdout, progress on stderr, and writes the
 * whole report as JSON with --json <file>.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { runConformanceChecks } from '@qaq/backend-conformance';
import { assertGpuPlacement, createNodeBackend, placementsFromLog, sessionPlacementLog, type NodeSessionOptions } from '@qaq/backend-node';
import type { ExecutionProviderName, ExecutionProviderProbe } from '@qaq/backend-spec';
import { isQaqError } from '@qaq/errors';
import { generate } from '@qaq/generation';
import { cachedModelPath, defaultModelId, modelRegistry, resolveCacheDirectory } from '@qaq/models';
import { loadLanguageModel, type RuntimeLanguageModel } from '@qaq/runtime';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';
import { readGguf } from '@qaq/gguf';
import { argmax } from './src/bench-engine.js';
import { readGutenbergBook, tokenizeForModel } from './src/context-tokens.js';
import { runMeasurement } from './src/run-measurement.js';
import { formatDeviceCheckTable, type DeviceCheckRow } from './device-check-table.js';
import { countingBackend } from './device-check-transfer.js';
import { parseDeviceCheckOptions } from './device-check-options.js';

const options = parseDeviceCheckOptions(process.argv.slice(2));
const started = performance.now();
const budgetSeconds = options.budgetSeconds;
const elapsedSeconds = (): number => (performance.now() - started) / 1000;
const log = (line: string): void => void process.stderr.write(`[device-check ${elapsedSeconds().toFixed(0)}s] ${line}\n`);
const errorText = (error: unknown): string =>
  isQaqError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);

const cpuMode = options.cpu;
const { contexts, decodeSteps, prefillChunk, methods, threads, attention } = options;

// The default model, and real context tokens (from the text, or a token file written by --write-tokens).
const modelEntry = modelRegistry.find((model) => model.id === defaultModelId)!;
const modelPath = options.model ?? cachedModelPath(resolveCacheDirectory(), modelEntry.id, modelEntry.fileName);
const gguf = new Uint8Array(readFileSync(modelPath));
const longestContext = Math.max(...contexts);
const contextTokens = options.tokens !== undefined
  ? (() => {
      const file = readFileSync(options.tokens);
      return new Int32Array(file.buffer, file.byteOffset, file.byteLength / 4);
    })()
  : (await tokenizeForModel(modelPath, await readGutenbergBook('austen-emma'), longestContext)).tokens;
if (options.writeTokens !== undefined) {
  // For machines without the text (the bundled check): the same tokens, as little-endian int32.
  writeFileSync(options.writeTokens, new Uint8Array(contextTokens.buffer, contextTokens.byteOffset, contextTokens.byteLength));
  log(`wrote ${contextTokens.length} tokens to ${options.writeTokens}`);
  process.exit(0);
}
if (contextTokens.length < longestContext) throw new Error(`--tokens holds ${contextTokens.length} tokens, ${longestContext} needed`);

const report: Record<string, unknown> = { mode: cpuMode ? 'cpu (dry run of the device path)' : 'device', node: process.version, startedAt: new Date().toISOString() };
report['model'] = { path: modelPath, bytes: gguf.byteLength };
const nodeBackend = createNodeBackend();

// 1. Probes: what is available and why not.
const probes = await nodeBackend.probe();
report['probes'] = probes;
for (const probe of probes) log(probe.available ? `${probe.name}: available` : `${probe.name}: ${probe.reason} (${probe.missing.join(', ')}) ${probe.details}`);
const available = (name: string): boolean => probes.some((probe: ExecutionProviderProbe) => probe.name === name && probe.available);
const providers: ExecutionProviderName[] = options.providers !== undefined
  ? [...options.providers]
  : cpuMode
    ? ['cpu']
    : ['cuda', ...(available('webgpu') ? ['webgpu'] : [])];
// The first provider carries the generation, placement and table; the others get the conformance suite.
const mainProvider = providers[0]!;
report['providers'] = providers;
report['attention'] = attention;

// 2. Conformance on each provider, exactly that provider (no fallback list).
const conformance: Record<string, unknown> = {};
if (!options.skipConformance) {
  for (const provider of providers) {
    // matmul-numerics allows TF32 on cuda (onnxruntime's default there, which onnxruntime-node cannot turn off)
    // unless --strict-float32-matmul holds it to float32.
    const results = await runConformanceChecks(() => nodeBackend, {
      sessionOptions: { executionProviders: [provider] },
      strictFloat32MatMul: options.strictFloat32MatMul,
    });
    const failed = results.filter((result) => result.status === 'failed');
    conformance[provider] = {
      passed: results.filter((result) => result.status === 'passed').length,
      skipped: results.filter((result) => result.status === 'skipped').length,
      failed: failed.map((result) => ({ id: result.id, error: result.status === 'failed' ? errorText(result.error) : '' })),
    };
    log(`conformance on ${provider}: ${JSON.stringify(conformance[provider])}`);
  }
}
report['conformance'] = conformance;

const sessionOptions: NodeSessionOptions = { executionProviders: [mainProvider], ...(threads === undefined ? {} : { intraOpThreads: threads }) };

interface LoadedMethod {
  readonly model: RuntimeLanguageModel;
  readonly methodName: string;
  readonly counters: ReturnType<typeof countingBackend>['counters'];
  /** Every graph given to the backend: the decoder's at load, then the attention graphs as they are created. */
  readonly models: Uint8Array[];
  /** How many of `models` the decoder itself has. */
  readonly decoderGraphs: number;
  /** Where attention runs: the runtime's strategy (fp16, uniform, qaq), 'in-graph' (ort-int4/ort-int8, fp32) or 'kivi'. */
  readonly attention: string;
}

async function load(kv: string): Promise<LoadedMethod> {
  const counting = countingBackend(nodeBackend);
  // The attention strategy applies to the segmented methods; with 'graph' its sessions run on the counting backend
  // and the same provider, so their runs and copies are in runs/step and copied/step.
  const loaded = await loadLanguageModel({ backend: counting.backend, gguf, kv, session: sessionOptions, prefillChunkSize: prefillChunk, attention });
  if (loaded.model.provider !== mainProvider) throw new Error(`the model runs on ${loaded.model.provider}, ${mainProvider} was asked`);
  // ort-int4/ort-int8 and fp32 attend inside the decoder graph; kivi has its own attention (on the CPU).
  const kind = loaded.method.kind;
  const methodAttention = kind === 'ort' || kind === 'fp32' ? 'in-graph' : kind === 'kivi' ? 'kivi' : attention;
  return {
    model: loaded.model,
    methodName: loaded.methodName,
    counters: counting.counters,
    models: counting.models,
    decoderGraphs: counting.models.length,
    attention: methodAttention,
  };
}

// 3. Generation with the default model (QAQ cache), greedy.
try {
  const { model } = await load('qaq');
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(readGguf(gguf).metadata));
  const prompt = tokenizer.hasChatTemplate
    ? tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: 'What is the capital of France?' }], { addGenerationPrompt: true }), { addSpecialTokens: false })
    : tokenizer.encode('The capital of France is', { addSpecialTokens: true });
  const run = generate(model, tokenizer, prompt, { maxTokens: cpuMode ? 12 : 32, sampling: { temperature: 0 } });
  let step = await run.next();
  while (step.done !== true) step = await run.next();
  const result = step.value;
  report['generation'] = {
    provider: model.provider,
    text: result.text,
    tokens: result.tokenIds.length,
    decodeTokensPerSecond: result.timings.decodeTokensPerSecond,
    prefillTokensPerSecond: result.timings.prefillTokensPerSecond,
  };
  log(`generated on ${model.provider}: ${JSON.stringify(result.text)} (${result.timings.decodeTokensPerSecond.toFixed(1)} tok/s)`);
  await model.dispose();
} catch (error) {
  report['generation'] = { error: errorText(error) };
  log(`generation failed: ${errorText(error)}`);
}

/** Where the nodes of a method's first and last graphs run; on a GPU provider, whether every compute node is on it. */
async function checkPlacement(method: string, models: readonly Uint8Array[], configEntries?: Readonly<Record<string, string>>): Promise<unknown[]> {
  const distinct = [models[0], models.at(-1)].filter((graph, index, all): graph is Uint8Array => graph !== undefined && all.indexOf(graph) === index);
  // onnxruntime keeps int64 shape arithmetic on the CPU on purpose; every other op must run on the GPU provider.
  const shapeOps = new Set(['Shape', 'Size', 'Range', 'ConstantOfShape', 'Unsqueeze', 'Squeeze', 'Concat', 'Gather', 'Slice', 'Cast', 'Equal', 'Where', 'Expand', 'Reshape']);
  const placements: unknown[] = [];
  for (const graph of distinct) {
    try {
      const { log: verbose, optimizedNodes } = await sessionPlacementLog(graph, [mainProvider], { timeoutMs: 180_000, ...(configEntries === undefined ? {} : { configEntries }) });
      const placed = placementsFromLog(verbose, optimizedNodes);
      const nodesOnCpu: Record<string, number> = {};
      for (const placement of placed) if (placement.provider === 'cpu') nodesOnCpu[placement.opType] = (nodesOnCpu[placement.opType] ?? 0) + 1;
      let gpuCheck = 'not a GPU provider';
      if (mainProvider === 'cuda' || mainProvider === 'webgpu') {
        try {
          const checked = assertGpuPlacement(verbose, { provider: mainProvider, optimizedNodes, gpuOnly: (node) => !shapeOps.has(node.opType) });
          gpuCheck = `all ${checked.checked.length} compute nodes on ${mainProvider}`;
        } catch (error) {
          gpuCheck = errorText(error);
        }
      }
      placements.push({ graphBytes: graph.byteLength, nodes: placed.length, nodesOnCpu, gpuCheck });
    } catch (error) {
      placements.push({ graphBytes: graph.byteLength, error: errorText(error) });
    }
  }
  log(`placement (${method}, ${models.length} graphs): ${JSON.stringify(placements)}`);
  return placements;
}

/** Warm-up, prefill of `context` − 1 real tokens, `decodeSteps` timed greedy steps; KV bytes and copies per step. */
async function measure(loaded: LoadedMethod, context: number): Promise<DeviceCheckRow> {
  const { model, methodName, counters } = loaded;
  // Copies are counted over the timed decode steps only: runMeasurement warms up, then resets before timing.
  let copied = 0;
  let runs = 0;
  const engine = {
    settings: {},
    async prefill(tokens: Int32Array) {
      for (let start = 0; start < tokens.length; start += prefillChunk) await model.forward(tokens.subarray(start, start + prefillChunk));
    },
    async decodeStep(token: number) {
      const before = { bytes: counters.bytesFed + counters.bytesFetched, runs: counters.runs };
      const next = argmax(await model.forward(Int32Array.of(token)));
      copied += counters.bytesFed + counters.bytesFetched - before.bytes;
      runs += counters.runs - before.runs;
      return next;
    },
    async reset() {
      copied = 0;
      runs = 0;
      model.reset();
    },
    async dispose() {},
  };
  const measurement = await runMeasurement(engine, contextTokens.subarray(0, context), decodeSteps);
  const memory = model.memory();
  return {
    status: 'measured',
    method: methodName,
    context,
    provider: model.provider,
    prefillTokensPerSecond: measurement.prefillTokensPerSecond,
    decodeTokensPerSecond: measurement.decodeTokensPerSecond,
    decodeMedianMilliseconds: measurement.decodeMedianMilliseconds,
    kvBytes: memory.bytes,
    kvFp16Bytes: memory.fp16Bytes,
    kvSlackBytes: memory.slackBytes,
    transferBytesPerStep: copied / decodeSteps,
    runsPerStep: runs / decodeSteps,
    attention: loaded.attention,
  };
}

// 4. The table, and the placement check of the first method that loads. Every method is loaded once; the shorter
// context is measured for all methods before the longer one, so that a spent time budget costs the longest rows only.
const loadedMethods: { method: string; loaded: LoadedMethod | undefined; reason: string }[] = [];
for (const method of methods) {
  try {
    const loaded = await load(method);
    loadedMethods.push({ method, loaded, reason: '' });
    if (report['placement'] === undefined) {
      report['placement'] = { method: loaded.methodName, provider: mainProvider, graphs: loaded.models.length, checked: await checkPlacement(loaded.methodName, loaded.models) };
    }
  } catch (error) {
    loadedMethods.push({ method, loaded: undefined, reason: errorText(error) });
    log(`${method}: unavailable: ${errorText(error)}`);
  }
}
const rows: DeviceCheckRow[] = [];
report['rows'] = rows;
const writeReport = (): void => {
  if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify({ ...report, seconds: elapsedSeconds() }, null, 1)}\n`);
};
// Each row is printed (and the JSON rewritten) as soon as it is measured: a run cut short by a timeout keeps its rows.
const addRow = (row: DeviceCheckRow): void => {
  const [header, rule, line] = formatDeviceCheckTable([row]).split('\n');
  if (rows.length === 0) process.stdout.write(`${header}\n${rule}\n`);
  rows.push(row);
  process.stdout.write(`${line}\n`);
  writeReport();
};
for (const context of [...contexts].sort((a, b) => a - b)) {
  for (const { method, loaded, reason } of loadedMethods) {
    if (loaded === undefined) {
      addRow({ status: 'unavailable', method, context, provider: mainProvider, reason });
      continue;
    }
    const usable = Math.min(context, loaded.model.contextLength - decodeSteps);
    if (elapsedSeconds() > budgetSeconds) {
      addRow({ status: 'skipped', method: loaded.methodName, context: usable, provider: mainProvider, reason: `time budget of ${budgetSeconds} s spent` });
      continue;
    }
    try {
      const row = await measure(loaded, usable);
      addRow(row);
      // The attention graphs exist once a step has run: check where the first and last of them ran, once.
      if (loaded.attention === 'graph' && report['attentionPlacement'] === undefined && loaded.models.length > loaded.decoderGraphs) {
        const attentionGraphs = loaded.models.slice(loaded.decoderGraphs);
        // GraphAttentionKernel loads its graphs with session.disable_quant_qdq on GPU providers: placed the same way.
        const gpu = mainProvider === 'cuda' || mainProvider === 'webgpu';
        const checked = await checkPlacement(`${loaded.methodName} attention`, attentionGraphs, gpu ? { 'session.disable_quant_qdq': '1' } : undefined);
        report['attentionPlacement'] = { method: loaded.methodName, provider: mainProvider, graphs: attentionGraphs.length, checked };
      }
      if (row.status === 'measured') log(`${row.method} @ ${usable}: ${row.decodeTokensPerSecond.toFixed(1)} tok/s, KV ${row.kvBytes} B, ${row.transferBytesPerStep} B copied/step`);
    } catch (error) {
      addRow({ status: 'failed', method: loaded.methodName, context: usable, provider: mainProvider, reason: errorText(error) });
      log(`${loaded.methodName} @ ${usable}: failed: ${errorText(error)}`);
    }
  }
}
for (const { loaded } of loadedMethods) await loaded?.model.dispose();
writeReport();
const conformanceFailed = Object.values(conformance).some((entry) => (entry as { failed: unknown[] }).failed.length > 0);
const anyMeasured = rows.some((row) => row.status === 'measured');
process.exitCode = conformanceFailed || !anyMeasured || 'error' in (report['generation'] as object) ? 1 : 0;
