// Streaming perplexity/KL of several KV methods against the fp32 reference on one text, in one process (one
// reference pass shared by the methods). Prints one JSON record per method (the `qaq eval --json` contract).
//   node --conditions=source --import tsx packages/evaluation/bench/evaluate-text.ts <model.gguf> <text.txt> <tokens> <context> <method…>
// STRIDE=<n> sets the windows' stride (default ⌊context / 2⌋); HEATMAP=<file.json> writes the bit-width maps.
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { createNodeBackend } from '@qaq/backend-node';
import { readGguf } from '@qaq/gguf';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';
import { evaluateMethods, formatEvaluationTable } from '../src/index.js';

const [modelPath, textPath, tokenText, contextText, ...methods] = process.argv.slice(2);
if (modelPath === undefined || textPath === undefined || tokenText === undefined || contextText === undefined || methods.length === 0) {
  throw new Error('usage: evaluate-text.ts <model.gguf> <text.txt> <tokens> <context> <method…>');
}
const gguf = new Uint8Array(await readFile(modelPath));
const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(readGguf(gguf).metadata));
const text = await readFile(textPath, 'utf8');
const tokens = tokenizer.encode(text.slice(0, Number(tokenText) * 8), { addSpecialTokens: true }).slice(0, Number(tokenText));
let last = 0;
const started = Date.now();
const { records, bitWidthMaps } = await evaluateMethods({
  backend: createNodeBackend(),
  gguf,
  methods,
  tokens,
  context: Number(contextText),
  ...(process.env['STRIDE'] === undefined ? {} : { stride: Number(process.env['STRIDE']) }),
  modelName: basename(modelPath),
  textName: basename(textPath),
  session: { executionProviders: ['cpu'], intraOpThreads: 1 },
  peakResidentBytes: () => process.resourceUsage().maxRSS * 1024,
  bitWidthMaps: process.env['HEATMAP'] !== undefined,
  onPartialRecords: (partial) => {
    for (const record of partial) process.stderr.write(`partial ${JSON.stringify(record)}\n`);
  },
  onProgress: ({ scoredTokens, totalScoredTokens }) => {
    if (Date.now() - last > 30_000) {
      last = Date.now();
      process.stderr.write(`${scoredTokens}/${totalScoredTokens} after ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  },
});
for (const record of records) process.stdout.write(`${JSON.stringify(record)}\n`);
process.stderr.write(`${formatEvaluationTable(records)}\n`);
if (process.env['HEATMAP'] !== undefined) await writeFile(process.env['HEATMAP'], JSON.stringify(bitWidthMaps));
