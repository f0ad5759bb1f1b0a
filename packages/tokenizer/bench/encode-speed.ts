/**
 * Encode/decode speed of @qaq/tokenizer on the fixture text sample (~5,000 words of Gutenberg + a synthetic
 * paragraph), for both default models. Single-threaded CPU; the first encode warms the JIT and is not counted.
 * Run: node --conditions=source --import tsx packages/tokenizer/bench/encode-speed.ts
 */
import { readFileSync } from 'node:fs';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';
import { modelAvailable, modelPath, readGgufMetadata, type ModelName } from '../src/gguf-files.test-utils.js';

const { sample } = JSON.parse(readFileSync(new URL('../fixtures/sample-text.json', import.meta.url), 'utf8')) as {
  sample: string;
};
const rounds = 10;

for (const model of ['smollm2-135m', 'gemma3-270m'] as const satisfies readonly ModelName[]) {
  if (!modelAvailable(model)) continue;
  let start = performance.now();
  const metadata = readGgufMetadata(modelPath(model));
  const readMs = performance.now() - start;
  start = performance.now();
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(metadata));
  const createMs = performance.now() - start;

  let ids = tokenizer.encode(sample); // warm-up
  start = performance.now();
  for (let round = 0; round < rounds; round++) ids = tokenizer.encode(sample);
  const encodeMs = (performance.now() - start) / rounds;

  start = performance.now();
  for (let round = 0; round < rounds; round++) tokenizer.decode(ids);
  const decodeMs = (performance.now() - start) / rounds;

  const stream = tokenizer.createStreamDecoder();
  start = performance.now();
  let streamed = '';
  for (const id of ids) streamed += stream.push(id);
  streamed += stream.flush();
  const streamMs = performance.now() - start;

  const perSecond = (milliseconds: number): string => Math.round((ids.length / milliseconds) * 1000).toLocaleString('en-US');
  console.log(
    `${model}: ${ids.length} tokens, ${sample.length} chars | metadata ${readMs.toFixed(0)} ms, createTokenizer ` +
      `${createMs.toFixed(0)} ms | encode ${encodeMs.toFixed(1)} ms = ${perSecond(encodeMs)} tokens/s | decode ` +
      `${decodeMs.toFixed(1)} ms = ${perSecond(decodeMs)} tokens/s | stream decode ${perSecond(streamMs)} tokens/s` +
      (streamed.length > 0 ? '' : ' (empty stream!)'),
  );
}
