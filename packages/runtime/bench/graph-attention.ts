// Per-layer decode attention over the compact cache: the ONNX graph (GraphAttentionKernel) on a backend's CPU EP vs
// the WebAssembly SIMD kernel, on SmolLM2's shape (9 query heads, 3 KV heads, head dim 64), one query token:
// node --conditions=source --import tsx packages/runtime/bench/graph-attention.ts [tokens…] (default 1024 4096)
// Caches: random QAQ-like mixes (widths 2–8 per chunk, a third demoted again, α = $ALPHA (default 0.02), fp16 recent
// window 16). THREADS (default 1) intra-op threads, REPETITIONS (default 40) timed calls.
// Prints median µs per call of each, and the bytes the graph is fed per call (what a GPU provider would upload).
import { loadavg } from 'node:os';
import { WasmAttention } from '@qaq/attention-kernel';
import { createNodeBackend } from '@qaq/backend-node';
import type { KvCache } from '@qaq/kv-cache';
import { GraphAttentionKernel } from '../src/graph-attention-kernel.js';
import { normalValues, randomCompactCache, uniformGenerator } from '@qaq/kv-cache/testing';

const tokenCounts = process.argv.slice(2).map(Number);
const threads = Number(process.env['THREADS'] ?? 1);
const repetitions = Number(process.env['REPETITIONS'] ?? 40);
const shape = { queryHeads: 9, kvHeads: 3, headDim: 64 };
const outlierFraction = Number(process.env['ALPHA'] ?? 0.02);
const config = { layers: 1, kvHeads: shape.kvHeads, headDim: shape.headDim, outlierFraction, recentWindow: 16 };
const widths = [2, 3, 4, 5, 6, 7, 8];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function timeCalls(call: () => void | Promise<void>): Promise<number> {
  for (let warm = 0; warm < 5; warm++) await call();
  const times: number[] = [];
  for (let repetition = 0; repetition < repetitions; repetition++) {
    const started = performance.now();
    await call();
    times.push((performance.now() - started) * 1000);
  }
  return median(times);
}

console.log(`graph vs WebAssembly kernel, SmolLM2 shape, α ${outlierFraction}, ${threads} intra-op thread(s), ${repetitions} calls, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
const backend = createNodeBackend();
const graph = new GraphAttentionKernel({ backend, session: { intraOpThreads: threads } });
const wasm = await WasmAttention.create();
const options = { queryHeads: shape.queryHeads, scoreScale: 1 / 8 };
for (const tokens of tokenCounts.length > 0 ? tokenCounts : [1024, 4096]) {
  const graphCache: KvCache = randomCompactCache(config, tokens, 7, widths, (c) => graph.createCache(c));
  const wasmCache: KvCache = randomCompactCache(config, tokens, 7, widths, (c) => wasm.createCache(c));
  const query = normalValues(shape.queryHeads * shape.headDim, uniformGenerator(3), 0.7);
  const output = new Float32Array(query.length);
  const probabilities = new Float32Array(shape.kvHeads * tokens);
  const graphMicroseconds = await timeCalls(() => graph.attendMulti(graphCache, 0, query, 1, options, output, probabilities));
  const fed = graph.lastFedBytes;
  const wasmMicroseconds = await timeCalls(() => wasm.attendMulti(wasmCache, 0, query, 1, options, output, probabilities));
  const held = graphCache.accounting();
  console.log(
    `${tokens} tokens: graph ${graphMicroseconds.toFixed(0)} µs, wasm kernel ${wasmMicroseconds.toFixed(0)} µs; ` +
      `graph fed ${(fed / 1024).toFixed(1)} KiB per call (cache live ${((held.totalBytes - held.slackBytes - held.bookkeepingBytes - held.scratchBytes) / 1024).toFixed(1)} KiB, ` +
      `${held.bitsPerElement.toFixed(2)} bits/element)`,
  );
}
await graph.dispose();
