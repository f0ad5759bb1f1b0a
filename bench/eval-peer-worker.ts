/**
 * llama.cpp KV cache types evaluated against our fp32 reference, in their own process so the peak resident memory
 * is theirs. Reads a JSON PeerEvaluationJob from argv[2], prints one line `{"result": [<record>…]}` on stdout (the
 * `qaq eval --json` record shape, one per cache type). Started by `qaq eval --sweep --peers` (apps/cli/src/commands/eval-sweep.ts).
 */
import { readFileSync } from 'node:fs';
import { evaluateLlamaPeers } from './src/llama-peer-evaluation.js';
import { parsePeerEvaluationJob } from './src/peer-evaluation-job.js';

const job = parsePeerEvaluationJob(process.argv[2]);
const file = readFileSync(job.tokenFile);
const tokens = new Int32Array(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
const result = await evaluateLlamaPeers({
  model: job.model,
  modelPath: job.modelPath,
  cacheTypes: job.cacheTypes,
  tokens,
  context: job.context,
  ...(job.stride === undefined ? {} : { stride: job.stride }),
  threads: job.threads,
  ...(job.textName === undefined ? {} : { textName: job.textName }),
});
process.stdout.write(`${JSON.stringify({ result })}\n`);
