/**
 * One engine × model × context, in its own process so its peak resident memory is its own. Reads a JSON job from
 * argv[2], prints one JSON line `{"result": …}` on stdout. Started by inference-speed.ts.
 */
import { readFileSync } from 'node:fs';
import { createLlamaEngine } from './src/llama-engine.js';
import { createQaqEngine } from './src/qaq-engine.js';
import type { BenchEngine } from './src/bench-engine.js';
import { runMeasurement } from './src/run-measurement.js';
import { parseWorkerJob } from './src/worker-job.js';

const job = parseWorkerJob(process.argv[2]);
const tokenFile = readFileSync(job.tokenFile);
const context = new Int32Array(tokenFile.buffer, tokenFile.byteOffset, tokenFile.byteLength / 4).slice(0, job.contextTokens);
const loadStart = performance.now();
const engine: BenchEngine =
  job.engine === 'qaq'
    ? await createQaqEngine({
        modelPath: job.modelPath,
        threads: job.threads,
        prefillChunk: job.prefillChunk,
        kv: job.kv,
        allowSpinning: job.spinning === 'default' ? undefined : job.spinning !== 'off',
        stopSpinningAfterRun: job.spinning === 'run' ? true : undefined,
        attentionThreads: job.attentionThreads,
      })
    : await createLlamaEngine({
        modelPath: job.modelPath,
        threads: job.threads,
        contextSize: job.contextTokens + job.decodeSteps + 8,
        batchSize: job.prefillChunk,
      });
const loadSeconds = (performance.now() - loadStart) / 1000;
const measurement = await runMeasurement(engine, context, job.decodeSteps);
await engine.dispose();
const result = {
  engine: job.engine,
  model: job.model,
  contextTokens: job.contextTokens,
  settings: engine.settings,
  loadSeconds,
  ...measurement,
  // resourceUsage().maxRSS is in kibibytes: the process's peak resident set, model load included.
  peakResidentMegabytes: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
};
process.stdout.write(`${JSON.stringify({ result })}\n`);
