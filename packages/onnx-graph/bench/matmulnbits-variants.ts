/**
 * One MatMulNBits (K=576, N=1536, one token) per zero-point variant, CPU EP, to see which paths ORT prepacks.
 * Usage: node --conditions=source --import tsx packages/onnx-graph/bench/matmulnbits-variants.ts
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/onnx/graph-builder.js';
import { attribute } from '../src/onnx/onnx-types.js';

const K = Number(process.argv[2] ?? 576);
const N = Number(process.argv[3] ?? 1536);
const rows = Number(process.argv[4] ?? 1);
async function time(bits: 4 | 8 | 32, blockSize: number, zeroPoints: 'none' | 'uint8' | 'float', accuracy: number): Promise<number> {
  const g = new GraphBuilder('bench');
  const x = g.input('x', 'float32', [1, rows, K]);
  if (bits === 32) {
    const w = g.initializer('w', 'float32', [K, N], Float32Array.from({ length: K * N }, (_, i) => ((i * 37) % 255) / 255));
    g.alias(g.op('MatMul', [x, w]), 'y');
    g.output('y', 'float32', [1, rows, N]);
    return measure(g.toModel({ opsetImports: [{ domain: '', version: 21 }] }));
  }
  const blocks = K / blockSize;
  const packed = new Uint8Array((N * K * bits) / 8).map((_, i) => (i * 37) & 255);
  const inputs = [x, g.initializer('b', 'uint8', [N, blocks, (blockSize * bits) / 8], packed),
    g.initializer('s', 'float32', [N * blocks], new Float32Array(N * blocks).fill(0.01))];
  if (zeroPoints === 'uint8') {
    const length = bits === 8 ? N * blocks : N * Math.ceil(blocks / 2);
    inputs.push(g.initializer('z', 'uint8', [length], new Uint8Array(length).fill(bits === 8 ? 128 : 0x88)));
  } else if (zeroPoints === 'float') {
    inputs.push(g.initializer('z', 'float32', [N * blocks], new Float32Array(N * blocks).fill(7.3)));
  }
  const y = g.op('MatMulNBits', inputs, {
    K: attribute.int(K), N: attribute.int(N), bits: attribute.int(bits), block_size: attribute.int(blockSize),
    accuracy_level: attribute.int(accuracy),
  }, { domain: 'com.microsoft' });
  g.alias(y, 'y');
  g.output('y', 'float32', [1, rows, N]);
  return measure(g.toModel({ opsetImports: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }] }));
}

async function measure(model: Uint8Array): Promise<number> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
  const feeds = { x: new ort.Tensor('float32', new Float32Array(rows * K).fill(0.5), [1, rows, K]) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 41; i++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  await session.release();
  return times.sort((a, b) => a - b)[20]!;
}
for (const [bits, blockSize, zp, accuracy] of [
  [32, 0, 'none', 0], [4, 32, 'uint8', 0], [32, 0, 'none', 0], [4, 32, 'uint8', 0], [4, 16, 'uint8', 0], [4, 32, 'float', 0], [8, 32, 'uint8', 0],
] as const) {
  try {
    console.log(`bits ${bits} block ${blockSize} zp ${zp} acc ${accuracy}: ${(await time(bits, blockSize, zp, accuracy)).toFixed(3)} ms`);
  } catch (error) {
    console.log(`bits ${bits} block ${blockSize} zp ${zp}: ERROR ${String(error).slice(0, 200)}`);
  }
}
