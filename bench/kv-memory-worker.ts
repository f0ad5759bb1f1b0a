/**
 * One model × context × KV method, in its own process so its peak resident memory is its own: prefill, greedy
 * decode, then the KV bytes held (the cache's accounting). Reads a JSON job from argv[2], prints one JSON line
 * `{"result": …}` on stdout. Started by kv-memory.ts.
 */
import { readFileSync } from 'node:fs';
import { kvBreakdown } from './src/kv-breakdown.js';
import { kernelArenaBytes } from './src/kv-memory-arena.js';
import type { KvMemoryResult } from './src/kv-memory-job.js';
import { parseKvMemoryJob } from './src/kv-memory-job.js';
import { createQaqEngine } from './src/qaq-engine.js';
import { runMeasurement } from './src/run-measurement.js';

const job = parseKvMemoryJob(process.argv[2]);
const tokenFile = readFileSync(job.tokenFile);
const context = new Int32Array(tokenFile.buffer, tokenFile.byteOffset, tokenFile.byteLength / 4).slice(0, job.contextTokens);
const loadStart = performance.now();
const engine = await createQaqEngine({
  modelPath: job.modelPath,
  threads: job.threads,
  prefillChunk: job.prefillChunk,
  kv: job.kv,
  allowSpinning: undefined,
  cpuMemArena: job.cpuArena === 'default' ? undefined : job.cpuArena === 'on',
});
const loadSeconds = (performance.now() - loadStart) / 1000;
const measurement = await runMeasurement(engine, context, job.decodeSteps);
// Read while the cache still holds the context and the decoded tokens.
const memory = engine.model.memory();
const breakdown = kvBreakdown(engine.model);
const kernelArena = kernelArenaBytes(engine.model);
const cachedTokens = engine.model.tokenCount;
await engine.dispose();
const result: KvMemoryResult = {
  model: job.model,
  kv: job.kv,
  methodName: String(engine.settings['kvCache']),
  contextTokens: job.contextTokens,
  cachedTokens,
  memory,
  compressionVersusFp16: memory.bytes === 0 ? 0 : memory.fp16Bytes / memory.bytes,
  breakdown,
  loadSeconds,
  ...measurement,
  // resourceUsage().maxRSS is in kibibytes: the process's peak resident set, model load included.
  peakResidentMegabytes: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
  cpuArena: job.cpuArena,
  kernelArena,
};
process.stdout.write(`${JSON.stringify({ result })}\n`);
