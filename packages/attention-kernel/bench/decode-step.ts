/**
 * One decode step (one query token) of one layer: the WASM SIMD kernel over the packed cache vs onnxruntime-node's
 * fp32 MatMul → Softmax → MatMul, in the same run. Each measurement cycles through the model's layers (a real
 * decode step reads every layer's cache once), so the caches are not cache-resident unless the whole model's cache
 * fits the CPU's caches. The fp32 rotation is capped at 512 MB (16× this CPU's L3).
 *
 * Usage: node --conditions=source --import tsx packages/attention-kernel/bench/decode-step.ts
 *          [--lengths 1024,4096,8192,16384] [--shapes smollm2,gemma] [--mixes 2,3,4,8,qaq,lean] [--js] [--reps 200]
 *
 * `--outliers F` sets the outlier fraction (default `authors`: one outlier per side per head slice; the presets keep 0),
 * `--layout token-layer` stores one group per token and layer (the presets' layout) instead of one per KV head.
 * `--fast-scores` times AttentionOptions.fastScores, `--fast-values` AttentionOptions.fastValues, `--skip τ`
 * AttentionOptions.negligibleProbability (default 0). `--shuffled-slots` appends every token at 8 bits and then
 * demotes the tokens to their drawn widths in a random order (without the ordering a plan does), so each pool's
 * slots are shuffled against the tokens — what demotions left before @qaq/kv-cache kept pools in token order.
 *
 * With `--threads N` it compares instead the single-thread kernel with the threaded one (N threads, Node worker
 * threads, WasmAttention.createThreaded) on identical caches, no ORT: per length, rounds of 10 calls alternate
 * between the two so that both see the same machine load; `--queries Q` times Q query positions per call
 * (a prefill chunk) instead of one.
 */
import { cpus, loadavg } from 'node:os';
import { attribute, GraphBuilder } from '@qaq/onnx-graph';
import type { KvCache } from '@qaq/kv-cache';
import * as ort from 'onnxruntime-node';
import { JsAttention } from '../src/js-attention.js';
import { startNodeKernelWorker } from '../src/node/node-threads.js';
import { WasmAttention } from '../src/wasm-attention.js';

interface Shape {
  readonly name: string;
  readonly layers: number;
  readonly queryHeads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

interface Mix {
  readonly name: string;
  /** [bits, probability] per kind; one draw per token. */
  readonly keys: readonly (readonly [number, number])[];
  readonly values: readonly (readonly [number, number])[];
  readonly recentWindow: number;
}

const SHAPES: Record<string, Shape> = {
  smollm2: { name: 'SmolLM2-135M 9q/3kv/64', layers: 30, queryHeads: 9, kvHeads: 3, headDim: 64 },
  gemma: { name: 'Gemma-3-270M 4q/1kv/256', layers: 18, queryHeads: 4, kvHeads: 1, headDim: 256 },
};

const MIXES: Record<string, Mix> = {
  '2': { name: 'all 2-bit', keys: [[2, 1]], values: [[2, 1]], recentWindow: 0 },
  '3': { name: 'all 3-bit', keys: [[3, 1]], values: [[3, 1]], recentWindow: 0 },
  '4': { name: 'all 4-bit', keys: [[4, 1]], values: [[4, 1]], recentWindow: 0 },
  '8': { name: 'all 8-bit', keys: [[8, 1]], values: [[8, 1]], recentWindow: 0 },
  qaq: {
    // K 8/4/3/2 bits = 10/40/40/10 %, V 4/3/2 = 20/30/50 %, newest 64 tokens fp16 (drawn per token).
    name: 'QAQ-like mix',
    keys: [[8, 0.1], [4, 0.4], [3, 0.4], [2, 0.1]],
    values: [[4, 0.2], [3, 0.3], [2, 0.5]],
    recentWindow: 64,
  },
  lean: {
    // The widths of a real `qaq:lean` cache after 7,168 tokens of SmolLM2 (session 18, all layers): K 2/3/4/5/6/7/8
    // bits = 67/20/6/3/1.5/0.8/1.1 %, V 2/3/4/5+ = 96/1.5/0.9/1.2 %.
    name: 'lean-like mix',
    keys: [[2, 0.67], [3, 0.2], [4, 0.06], [5, 0.03], [6, 0.015], [7, 0.008], [8, 0.011]],
    values: [[2, 0.96], [3, 0.015], [4, 0.009], [8, 0.012]],
    recentWindow: 0,
  },
};

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const lengths = argument('lengths', '1024,4096,8192,16384').split(',').map(Number);
const shapeNames = argument('shapes', 'smollm2,gemma').split(',');
const mixNames = argument('mixes', '2,3,4,qaq').split(',');
const repetitions = Number(argument('reps', '200'));
const withJs = process.argv.includes('--js');
const threadCount = Number(argument('threads', '1'));
const queryCount = Number(argument('queries', '1'));
// Outliers per side per group, as a fraction (default: one per head slice, as the authors' code keeps at D = 64–128;
// every QAQ preset keeps none), and the group layout (the presets store one group per token and layer).
const outlierOption = argument('outliers', 'authors');
const groupLayout = argument('layout', 'token-layer-head') as 'token-layer-head' | 'token-layer';
// AttentionOptions.fastScores (quantized keys scored against 16-bit queries), fastValues (values summed in
// integers) and negligibleProbability τ.
const fastScores = process.argv.includes('--fast-scores');
const fastValues = process.argv.includes('--fast-values');
const negligibleProbability = Number(argument('skip', '0'));
const shuffledSlots = process.argv.includes('--shuffled-slots');

function uniformGenerator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
}

function normals(count: number, uniform: () => number): Float32Array {
  const out = new Float32Array(count);
  for (let index = 0; index < count; index += 1) out[index] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

function draw(table: readonly (readonly [number, number])[], uniform: () => number): number {
  let target = uniform();
  for (const [bits, probability] of table) {
    target -= probability;
    if (target <= 0) return bits;
  }
  return (table[table.length - 1] as readonly [number, number])[0];
}

/** Median and minimum in µs of per-step times in ms (the minimum is the least disturbed by other processes). */
interface Timing {
  readonly median: number;
  readonly minimum: number;
}

function summarize(milliseconds: number[]): Timing {
  const sorted = [...milliseconds].sort((a, b) => a - b);
  return { median: (sorted[Math.floor(sorted.length / 2)] as number) * 1000, minimum: (sorted[0] as number) * 1000 };
}

/** Fills every layer with `tokens` tokens (per-token bits drawn from the mix, one outlier per side per group). */
function buildCache(kernel: WasmAttention, shape: Shape, mix: Mix, tokens: number): KvCache {
  const cache = kernel.createCache({
    layers: shape.layers,
    kvHeads: shape.kvHeads,
    headDim: shape.headDim,
    outlierFraction: outlierOption === 'authors' ? 2 / shape.headDim : Number(outlierOption),
    groupLayout,
    recentWindow: mix.recentWindow,
    initialCapacityTokens: tokens,
  });
  const uniform = uniformGenerator(17);
  const tokenLength = shape.kvHeads * shape.headDim;
  const poolTokens = 256;
  const keys = normals(poolTokens * tokenLength, uniform);
  const values = normals(poolTokens * tokenLength, uniform);
  const chunk = mix.keys.length === 1 && mix.values.length === 1 ? 64 : 1;
  const groupsPerToken = groupLayout === 'token-layer' ? 1 : shape.kvHeads;
  const keyWidths = new Uint8Array(tokens);
  const valueWidths = new Uint8Array(tokens);
  for (let layer = 0; layer < shape.layers; layer += 1) {
    for (let token = 0; token < tokens; token += chunk) {
      const start = ((token * 7 + layer * 13) % (poolTokens - chunk)) * tokenLength;
      const count = Math.min(chunk, tokens - token);
      const keyBits = draw(mix.keys, uniform);
      const valueBits = draw(mix.values, uniform);
      keyWidths.fill(keyBits, token, token + count);
      valueWidths.fill(valueBits, token, token + count);
      cache.append(layer, keys.subarray(start, start + count * tokenLength), values.subarray(start, start + count * tokenLength),
        count, shuffledSlots ? 8 : keyBits, shuffledSlots ? 8 : valueBits);
    }
    if (!shuffledSlots) continue;
    const order = Array.from({ length: tokens - mix.recentWindow }, (_, index) => index);
    for (let index = order.length - 1; index > 0; index -= 1) {
      const other = Math.floor(uniform() * (index + 1));
      [order[index], order[other]] = [order[other] as number, order[index] as number];
    }
    for (const token of order) {
      for (let head = 0; head < groupsPerToken; head += 1) {
        const group = token * groupsPerToken + head;
        if ((keyWidths[token] as number) < 8) cache.setGroupBits('keys', layer, group, keyWidths[token] as number);
        if ((valueWidths[token] as number) < 8) cache.setGroupBits('values', layer, group, valueWidths[token] as number);
      }
    }
  }
  return cache;
}

/** fp32 attention graph: Q [kvHeads, G, D] · Kᵀ [kvHeads, D, T] → ·c → Softmax → · V [kvHeads, T, D]. */
async function ortSession(shape: Shape, threads: number): Promise<ort.InferenceSession> {
  const graph = new GraphBuilder('attention');
  const group = shape.queryHeads / shape.kvHeads;
  const query = graph.input('q', 'float32', [shape.kvHeads, group, shape.headDim]);
  const keysTransposed = graph.input('kt', 'float32', [shape.kvHeads, shape.headDim, 'T']);
  const values = graph.input('v', 'float32', [shape.kvHeads, 'T', shape.headDim]);
  const scores = graph.op('Mul', [graph.op('MatMul', [query, keysTransposed]), graph.float32([1 / Math.sqrt(shape.headDim)])]);
  const probabilities = graph.op('Softmax', [scores], { axis: attribute.int(-1) });
  graph.alias(graph.op('MatMul', [probabilities, values]), 'out');
  graph.output('out', 'float32', [shape.kvHeads, group, shape.headDim]);
  const model = graph.toModel({ opsetImports: [{ domain: '', version: 17 }] });
  return ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
}

async function timeOrt(session: ort.InferenceSession, shape: Shape, tokens: number): Promise<Timing> {
  const layerBytes = 2 * tokens * shape.kvHeads * shape.headDim * 4;
  const rotation = Math.max(2, Math.min(shape.layers, Math.floor((512 << 20) / layerBytes)));
  const uniform = uniformGenerator(5);
  const group = shape.queryHeads / shape.kvHeads;
  const feeds = Array.from({ length: rotation }, () => ({
    q: new ort.Tensor('float32', normals(shape.queryHeads * shape.headDim, uniform), [shape.kvHeads, group, shape.headDim]),
    kt: new ort.Tensor('float32', normals(tokens * shape.kvHeads * shape.headDim, uniform), [shape.kvHeads, shape.headDim, tokens]),
    v: new ort.Tensor('float32', normals(tokens * shape.kvHeads * shape.headDim, uniform), [shape.kvHeads, tokens, shape.headDim]),
  }));
  for (let index = 0; index < rotation; index += 1) await session.run(feeds[index] as ort.InferenceSession.FeedsType);
  const times: number[] = [];
  for (let index = 0; index < repetitions; index += 1) {
    const start = performance.now();
    await session.run(feeds[index % rotation] as ort.InferenceSession.FeedsType);
    times.push(performance.now() - start);
  }
  return summarize(times);
}

function timeKernel(run: (layer: number) => void, layers: number, reps: number): Timing {
  for (let layer = 0; layer < layers; layer += 1) run(layer);
  const times: number[] = [];
  for (let index = 0; index < reps; index += 1) {
    const start = performance.now();
    run(index % layers);
    times.push(performance.now() - start);
  }
  return summarize(times);
}

/** Single-thread vs threaded kernel on the same cache contents, alternating rounds of calls. */
async function compareThreads(): Promise<void> {
  console.log(`threaded kernel: ${threadCount} threads; ${queryCount} query position(s) per call; times in µs per layer call, median (min)`);
  console.log('| shape | mix | T | 1 thread µs | ' + threadCount + ' threads µs | speed-up (median) | load |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const threaded = await WasmAttention.createThreaded({ threads: threadCount, startWorker: startNodeKernelWorker });
  for (const shapeName of shapeNames) {
    const shape = SHAPES[shapeName];
    if (shape === undefined) throw new Error(`unknown shape ${shapeName}`);
    for (const mixName of mixNames) {
      const mix = MIXES[mixName];
      if (mix === undefined) throw new Error(`unknown mix ${mixName}`);
      const single = WasmAttention.createSync();
      const caches = [buildCache(single, shape, mix, maxLength), buildCache(threaded, shape, mix, maxLength)] as const;
      const kernels = [single, threaded] as const;
      const queries = normals(queryCount * shape.queryHeads * shape.headDim, uniformGenerator(3));
      const output = new Float32Array(queryCount * shape.queryHeads * shape.headDim);
      const probabilities = new Float32Array(queryCount * shape.kvHeads * maxLength);
      const options = { queryHeads: shape.queryHeads, scoreScale: 1 / Math.sqrt(shape.headDim), fastScores, fastValues, negligibleProbability };
      for (const tokens of descending) {
        for (const cache of caches) {
          const current = cache.tokenCount(0);
          if (current > tokens) for (let layer = 0; layer < shape.layers; layer += 1) cache.evictOldest(layer, current - tokens);
        }
        const times: [number[], number[]] = [[], []];
        const round = 10;
        for (let done = -2 * round; done < repetitions; done += round) {
          for (const which of [0, 1] as const) {
            const kernel = kernels[which];
            const cache = caches[which];
            for (let index = 0; index < round; index += 1) {
              const layer = (((done + index) % shape.layers) + shape.layers) % shape.layers;
              const start = performance.now();
              kernel.attendMulti(cache, layer, queries, queryCount, options, output, probabilities);
              // The first two rounds warm up (tier-up, worker wake-up) and are not kept.
              if (done >= 0) times[which].push(performance.now() - start);
            }
          }
        }
        const [one, many] = [summarize(times[0]), summarize(times[1])];
        const show = (timing: Timing): string => `${timing.median.toFixed(0)} (${timing.minimum.toFixed(0)})`;
        console.log(
          `| ${shape.name} | ${mix.name} | ${tokens} | ${show(one)} | ${show(many)} | ${(one.median / many.median).toFixed(2)}× | ${(loadavg()[0] ?? 0).toFixed(1)} |`,
        );
      }
      for (const cache of caches) cache.dispose();
    }
  }
  await threaded.dispose();
}

const maxLength = Math.max(...lengths);
const descending = [...lengths].sort((a, b) => b - a);
if (threadCount > 1) {
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; node ${process.version}`);
  console.log(`load average at start: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  await compareThreads();
  process.exit(0);
}
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; node ${process.version}; onnxruntime-node ${ort.env.versions.common}`);
console.log(`load average at start: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
console.log('Times in µs, median (min); ORT is the faster of 1 and 2 intra-op threads by median (by min); speed-up = ORT / kernel.');
console.log(
  '| shape | mix | T | bits/elem | kernel µs | kernel GB/s | ORT fp32 2 thr | ORT fp32 1 thr | ORT GB/s | speed-up | load |' +
    (withJs ? ' JS µs |' : ''),
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |' + (withJs ? ' --- |' : ''));
for (const shapeName of shapeNames) {
  const shape = SHAPES[shapeName];
  if (shape === undefined) throw new Error(`unknown shape ${shapeName}`);
  const ortTimes = new Map<number, { two: Timing; one: Timing }>();
  const twoThreads = await ortSession(shape, 2);
  const oneThread = await ortSession(shape, 1);
  for (const tokens of lengths) {
    const two = await timeOrt(twoThreads, shape, tokens);
    const one = await timeOrt(oneThread, shape, tokens);
    ortTimes.set(tokens, { two, one });
  }
  await twoThreads.release();
  await oneThread.release();
  for (const mixName of mixNames) {
    const mix = MIXES[mixName];
    if (mix === undefined) throw new Error(`unknown mix ${mixName}`);
    const kernel = WasmAttention.createSync();
    const cache = buildCache(kernel, shape, mix, maxLength);
    const queries = normals(shape.queryHeads * shape.headDim, uniformGenerator(3));
    const output = new Float32Array(shape.queryHeads * shape.headDim);
    const probabilities = new Float32Array(shape.kvHeads * maxLength);
    const options = { queryHeads: shape.queryHeads, scoreScale: 1 / Math.sqrt(shape.headDim), fastScores, fastValues, negligibleProbability };
    const js = new JsAttention();
    for (const tokens of descending) {
      const current = cache.tokenCount(0);
      if (current > tokens) for (let layer = 0; layer < shape.layers; layer += 1) cache.evictOldest(layer, current - tokens);
      const accounting = cache.accounting();
      const layerBytes = (accounting.bitsPerElement * accounting.liveElements) / 8 / shape.layers;
      const kernelTime = timeKernel((layer) => kernel.attend(cache, layer, queries, options, output, probabilities), shape.layers, repetitions);
      const jsTime = withJs ? timeKernel((layer) => js.attendMulti(cache, layer, queries, 1, options, output, probabilities), shape.layers, 9) : null;
      const reference = ortTimes.get(tokens) as { two: Timing; one: Timing };
      const ortBytes = 2 * tokens * shape.kvHeads * shape.headDim * 4;
      const bestMedian = Math.min(reference.two.median, reference.one.median);
      const bestMinimum = Math.min(reference.two.minimum, reference.one.minimum);
      const show = (timing: Timing): string => `${timing.median.toFixed(0)} (${timing.minimum.toFixed(0)})`;
      console.log(
        `| ${shape.name} | ${mix.name} | ${tokens} | ${accounting.bitsPerElement.toFixed(2)} | ${show(kernelTime)} | ` +
          `${(layerBytes / kernelTime.median / 1000).toFixed(2)} | ${show(reference.two)} | ${show(reference.one)} | ` +
          `${(ortBytes / bestMedian / 1000).toFixed(1)} | ${(bestMedian / kernelTime.median).toFixed(2)}× (${(bestMinimum / kernelTime.minimum).toFixed(2)}×) | ` +
          `${(loadavg()[0] ?? 0).toFixed(1)} |` +
          (jsTime === null ? '' : ` ${show(jsTime)} |`),
      );
    }
    cache.dispose();
  }
  console.log(`load average after ${shape.name}: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
}
