// What per-channel scaling (QAQ settings `kscale=1`, `vscale=1`; runtime's ChannelScaling) can gain on a model:
// prefills a text through an fp16 cache, takes each layer's and KV head's per-channel second moments of the queries
// (all query heads of the KV head), keys and values (the first 4 positions, attention sinks, left out), and prints
// the predicted bit saving at equal error −½·log2 R:
// - keys, R = (Σ_c √(E[q_c²] E[k_c²]))² / (Σ_c E[q_c²] · Σ_c E[k_c²]): the factor by which the best scale cuts the
//   expected squared score error, per channel and with RoPE's channel pairs (j, j + D/2) sharing a scale (as the
//   runtime does);
// - values, R = (Σ_c √E[v_c²])² / (D · Σ_c E[v_c²]): the same for the output error with every channel weighed alike.
//   node --conditions=source --import tsx packages/evaluation/bench/channel-scaling-gain.ts <model.gguf> <text.txt> <tokens>
import { readFile } from 'node:fs/promises';
import { createNodeBackend } from '@qaq/backend-node';
import { readGguf } from '@qaq/gguf';
import { createLayerAttention, layerAttentionShape, loadSegmentedModel, parseKvMethod, type LayerAttention } from '@qaq/runtime';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';

const [modelPath, textPath, tokenText] = process.argv.slice(2);
if (modelPath === undefined || textPath === undefined || tokenText === undefined) {
  throw new Error('usage: channel-scaling-gain.ts <model.gguf> <text.txt> <tokens>');
}
const sinkTokens = 4;
const gguf = new Uint8Array(await readFile(modelPath));
const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(readGguf(gguf).metadata));
const tokenCount = Number(tokenText);
const tokens = Int32Array.from(tokenizer.encode((await readFile(textPath, 'utf8')).slice(0, tokenCount * 8), { addSpecialTokens: true }).slice(0, tokenCount));

interface Moments {
  readonly kvHeads: number;
  readonly queryHeads: number;
  readonly headDim: number;
  /** [layers, kvHeads, headDim] sums of q_c², k_c² and v_c². */
  readonly querySquares: Float64Array;
  readonly keySquares: Float64Array;
  readonly valueSquares: Float64Array;
  readonly positions: number[];
}
let moments: Moments | undefined;

/** An fp16 cache that also sums the squares of what passes through it. */
async function recordingAttention(config: Parameters<typeof layerAttentionShape>[0]): Promise<LayerAttention> {
  const inner = await createLayerAttention(parseKvMethod('fp16'), config);
  const shape = layerAttentionShape(config);
  const length = shape.layerCount * shape.keyValueHeadCount * shape.headDim;
  const state: Moments = {
    kvHeads: shape.keyValueHeadCount,
    queryHeads: shape.queryHeadCount,
    headDim: shape.headDim,
    querySquares: new Float64Array(length),
    keySquares: new Float64Array(length),
    valueSquares: new Float64Array(length),
    positions: new Array<number>(shape.layerCount).fill(0),
  };
  moments = state;
  const { kvHeads, queryHeads, headDim } = state;
  const group = queryHeads / kvHeads;
  return {
    name: 'fp16 (recording)',
    attend(layer, query, key, value, count, output) {
      const base = layer * kvHeads * headDim;
      for (let token = 0; token < count; token++) {
        for (let head = 0; head < queryHeads; head++) {
          for (let index = 0; index < headDim; index++) {
            const element = query[(token * queryHeads + head) * headDim + index] as number;
            const target = base + Math.floor(head / group) * headDim + index;
            state.querySquares[target] = (state.querySquares[target] as number) + element * element;
          }
        }
        if ((state.positions[layer] as number) + token < sinkTokens) continue;
        for (let head = 0; head < kvHeads; head++) {
          for (let index = 0; index < headDim; index++) {
            const element = key[(token * kvHeads + head) * headDim + index] as number;
            const target = base + head * headDim + index;
            state.keySquares[target] = (state.keySquares[target] as number) + element * element;
            const valueElement = value[(token * kvHeads + head) * headDim + index] as number;
            state.valueSquares[target] = (state.valueSquares[target] as number) + valueElement * valueElement;
          }
        }
      }
      state.positions[layer] = (state.positions[layer] as number) + count;
      return inner.attend(layer, query, key, value, count, output);
    },
    tokenCount: (layer) => inner.tokenCount(layer),
    reset: () => inner.reset(),
    memory: () => inner.memory(),
    dispose: () => inner.dispose(),
  };
}

const loaded = await loadSegmentedModel({
  backend: createNodeBackend(),
  gguf,
  session: { executionProviders: ['cpu'], intraOpThreads: 2 },
  createAttention: recordingAttention,
});
await loaded.model.forward(tokens);
await loaded.model.dispose();
if (moments === undefined) throw new Error('the model made no attention');

/** −½·log2 R over `channels` (index lists that share a scale): keys against the queries, values with every channel alike. */
function predictedBits(state: Moments, base: number, channels: readonly (readonly number[])[], side: 'keys' | 'values'): number {
  let cross = 0;
  let queryTotal = 0;
  let keyTotal = 0;
  for (const set of channels) {
    let query = 0;
    let key = 0;
    for (const index of set) {
      query += side === 'keys' ? (state.querySquares[base + index] as number) : 1;
      key += ((side === 'keys' ? state.keySquares : state.valueSquares)[base + index] as number);
    }
    cross += Math.sqrt(query * key);
    queryTotal += query;
    keyTotal += key;
  }
  return -0.5 * Math.log2((cross * cross) / (queryTotal * keyTotal));
}

const { kvHeads, headDim } = moments;
const half = headDim / 2;
const perChannel = Array.from({ length: headDim }, (_, index) => [index]);
const perPair = Array.from({ length: half }, (_, index) => [index, index + half]);
const layers = moments.querySquares.length / (kvHeads * headDim);
let channelSum = 0;
let pairSum = 0;
let valueSum = 0;
process.stdout.write(`| layer | ${Array.from({ length: kvHeads }, (_, head) => `KV head ${head}: keys per channel / per RoPE pair / values`).join(' | ')} |\n`);
process.stdout.write(`| ---: | ${Array.from({ length: kvHeads }, () => '---:').join(' | ')} |\n`);
for (let layer = 0; layer < layers; layer++) {
  const cells: string[] = [];
  for (let head = 0; head < kvHeads; head++) {
    const base = (layer * kvHeads + head) * headDim;
    const channel = predictedBits(moments, base, perChannel, 'keys');
    const pair = predictedBits(moments, base, perPair, 'keys');
    const value = predictedBits(moments, base, perChannel, 'values');
    channelSum += channel;
    pairSum += pair;
    valueSum += value;
    cells.push(`${channel.toFixed(2)} / ${pair.toFixed(2)} / ${value.toFixed(2)}`);
  }
  process.stdout.write(`| ${layer} | ${cells.join(' | ')} |\n`);
}
const heads = layers * kvHeads;
process.stdout.write(
  `\nPredicted bits saved at equal error, mean over ${heads} layer-heads (${tokens.length} tokens): keys ` +
    `${(channelSum / heads).toFixed(2)} per channel, ${(pairSum / heads).toFixed(2)} per RoPE pair; values ${(valueSum / heads).toFixed(2)}.\n`,
);
