/**
 * Would a blockwise DequantizeLinear (uint8 codes) + MatMul be constant-folded into an fp32 weight at session
 * creation on onnxruntime-web's wasm EP (then as fast as fp32 per run)? Times one token, 576×1536, per session option.
 * Usage: node --conditions=source --import tsx packages/onnx-graph/bench/dequantize-linear-wasm.ts [K] [N]
 */
import * as ortWeb from 'onnxruntime-web/wasm';
import { GraphBuilder } from '../src/onnx/graph-builder.js';
import { attribute } from '../src/onnx/onnx-types.js';

const K = Number(process.argv[2] ?? 576);
const N = Number(process.argv[3] ?? 1536);
const blockSize = 32;
ortWeb.env.wasm.numThreads = 1;

function buildModel(): Uint8Array {
  const g = new GraphBuilder('bench');
  const x = g.input('x', 'float32', [1, 1, K]);
  const codes = g.initializer('codes', 'uint8', [K, N], new Uint8Array(K * N).map((_, i) => (i * 37) & 15));
  const scales = g.initializer('scales', 'float32', [K / blockSize, N], Float32Array.from({ length: (K / blockSize) * N }, (_, i) => 0.01 + (i % 7) * 0.001));
  const zeroPoints = g.initializer('zero_points', 'uint8', [K / blockSize, N], new Uint8Array((K / blockSize) * N).map((_, i) => (i * 13) & 15));
  const weight = g.op('DequantizeLinear', [codes, scales, zeroPoints], { axis: attribute.int(0), block_size: attribute.int(blockSize) });
  g.alias(g.op('MatMul', [x, weight]), 'y');
  g.output('y', 'float32', [1, 1, N]);
  return g.toModel({ opsetImports: [{ domain: '', version: 21 }] });
}

/** The MatMulNBits layout read as ONNX uint4: codes [N, K] (K packed two per byte), scales and zero points [N, K/32]. */
function buildTransposedUint4Model(): Uint8Array {
  const g = new GraphBuilder('bench');
  const x = g.input('x', 'float32', [1, 1, K]);
  const blocks = K / blockSize;
  const codes = g.initializer('codes', 'uint4', [N, K], new Uint8Array((N * K) / 2).map((_, i) => (i * 37) & 255));
  const scales = g.initializer('scales', 'float32', [N, blocks], Float32Array.from({ length: blocks * N }, (_, i) => 0.01 + (i % 7) * 0.001));
  const zeroPoints = g.initializer('zero_points', 'uint4', [N, blocks], new Uint8Array((blocks * N) / 2).map((_, i) => (i * 13) & 255));
  const weight = g.op('DequantizeLinear', [codes, scales, zeroPoints], { axis: attribute.int(1), block_size: attribute.int(blockSize) });
  g.alias(g.op('FusedMatMul', [x, weight], { transB: attribute.int(1) }, { domain: 'com.microsoft' }), 'y');
  g.output('y', 'float32', [1, 1, N]);
  return g.toModel({ opsetImports: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }] });
}

async function time(label: string, options: ortWeb.InferenceSession.SessionOptions, build = buildModel): Promise<void> {
  const created = performance.now();
  const session = await ortWeb.InferenceSession.create(build(), { executionProviders: ['wasm'], ...options });
  const createMilliseconds = performance.now() - created;
  const feeds = { x: new ortWeb.Tensor('float32', Float32Array.from({ length: K }, (_, i) => Math.sin(i)), [1, 1, K]) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  console.log(`${K}x${N} DequantizeLinear+MatMul, ${label}: create ${createMilliseconds.toFixed(0)} ms, run median ${times[4]!.toFixed(3)} ms`);
  await session.release();
}

await time('uint4 [N, K] + FusedMatMul transB, default options', {}, buildTransposedUint4Model);
await time('uint4 [N, K] + FusedMatMul transB, session.disable_quant_qdq=1', { extra: { session: { disable_quant_qdq: '1' } } }, buildTransposedUint4Model);
await time('uint4 [N, K] + FusedMatMul transB, graph optimization basic', { graphOptimizationLevel: 'basic' }, buildTransposedUint4Model);
await time('default options', {});
await time('session.disable_quant_qdq=1', { extra: { session: { disable_quant_qdq: '1' } } });
await time('graph optimizations off', { graphOptimizationLevel: 'disabled' });
