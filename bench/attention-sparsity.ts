/**
 * How much attention a long context's tokens get in decode: loads a model through @qaq/runtime (segmented decoder,
 * compact cache), prefills `--context` tokens of a Gutenberg book and, over `--steps` greedy decode steps, reads the
 * attention statistics the policy receives (per layer and KV head, each token's largest probability over the query
 * heads sharing it). Prints, per threshold τ, the share of tokens below τ (those `skip=τ` leaves out of the value
 * pass) and the attention mass a row loses with them. Only steps the policy records are seen (the last n before
 * each plan), so use a preset that records (any QAQ preset).
 *   node --conditions=source --import tsx bench/attention-sparsity.ts --model smollm2-135m --context 7168 --kv qaq:lean:skip=0
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createNodeBackend } from '@qaq/backend-node';
import { cachedModelPath, getRegisteredModel, resolveCacheDirectory } from '@qaq/models';
import { loadLanguageModel, type CompactCacheAttention, type SegmentedLanguageModel } from '@qaq/runtime';
import { readGutenbergBook, tokenizeForModel } from './src/context-tokens.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'smollm2-135m' },
    context: { type: 'string', default: '7168' },
    steps: { type: 'string', default: '32' },
    kv: { type: 'string', default: 'qaq:lean:skip=0' },
    book: { type: 'string', default: 'austen-emma' },
    thresholds: { type: 'string', default: '1e-8,1e-7,1e-6,1e-5,1e-4' },
  },
});
const thresholds = values.thresholds.split(',').map(Number);
const registered = getRegisteredModel(values.model);
const modelPath = cachedModelPath(resolveCacheDirectory(), registered.id, registered.fileName);
const loaded = await loadLanguageModel({
  backend: createNodeBackend(),
  gguf: new Uint8Array(readFileSync(modelPath)),
  kv: values.kv,
  prefillChunkSize: 512,
  session: { executionProviders: ['cpu'], intraOpThreads: 2 },
});
const model = loaded.model as SegmentedLanguageModel;
const policy = (model.attention as CompactCacheAttention).policy;
if (policy === null) throw new Error(`--kv ${values.kv} has no policy, so no attention statistics`);
const tokensBelow = new Float64Array(thresholds.length);
const massBelow = new Float64Array(thresholds.length);
let tokens = 0;
let rows = 0;
let decoding = false;
const observe = policy.observe.bind(policy);
policy.observe = (layer: number, probabilities: Float32Array, tokenCount: number): void => {
  if (decoding) {
    // [kvHeads, tokenCount]: one row per KV head.
    for (let start = 0; start + tokenCount <= probabilities.length; start += tokenCount) {
      rows += 1;
      tokens += tokenCount;
      for (let token = start; token < start + tokenCount; token += 1) {
        const probability = probabilities[token] as number;
        thresholds.forEach((threshold, index) => {
          if (probability < threshold) {
            tokensBelow[index] = (tokensBelow[index] as number) + 1;
            massBelow[index] = (massBelow[index] as number) + probability;
          }
        });
      }
    }
  }
  observe(layer, probabilities, tokenCount);
};
const context = Number(values.context);
const { tokens: textTokens } = await tokenizeForModel(modelPath, await readGutenbergBook(values.book), context);
let logits: Float32Array = new Float32Array(0);
for (let start = 0; start < context; start += 512) logits = await model.forward(textTokens.subarray(start, Math.min(start + 512, context)));
decoding = true;
for (let step = 0; step < Number(values.steps); step += 1) {
  let best = 0;
  for (let index = 1; index < logits.length; index += 1) if ((logits[index] as number) > (logits[best] as number)) best = index;
  logits = await model.forward(Int32Array.of(best));
}
await model.dispose();
console.log(`${values.model}, ${context} tokens of ${values.book}, ${values.kv}: ${rows} KV-head rows from recorded decode steps`);
console.log('| τ | tokens below τ | attention mass below τ, per row |');
console.log('| ---: | ---: | ---: |');
thresholds.forEach((threshold, index) => {
  console.log(`| ${threshold} | ${((100 * (tokensBelow[index] as number)) / tokens).toFixed(1)} % | ${((100 * (massBelow[index] as number)) / rows).toFixed(4)} % |`);
});
