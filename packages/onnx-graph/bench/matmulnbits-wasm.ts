/**
 * One MatMulNBits node with SmolLM2's shapes on onnxruntime-web's wasm EP (inside Node) or onnxruntime-node:
 * accuracy_level 0 vs 4, block sizes, with and without zero points, against an fp32 MatMul.
 * Usage: node --conditions=source --import tsx packages/onnx-graph/bench/matmulnbits-wasm.ts [wasm|node] [runs]
 */
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web/wasm';
import { GraphBuilder } from '../src/onnx/graph-builder.js';
import { attribute } from '../src/onnx/onnx-types.js';

const runtime = (process.argv[2] ?? 'wasm') as 'wasm' | 'node';
const runs = Number(process.argv[3] ?? 15);
const shapes = (process.argv[4] ?? '576x576,576x1536,576x49152').split(',').map((text) => text.split('x').map(Number) as [number, number]);
ortWeb.env.wasm.numThreads = 1;

interface Variant {
  readonly bits: 4 | 32;
  readonly blockSize: number;
  readonly zeroPoints: boolean;
  readonly accuracyLevel: number;
}

function buildModel(K: number, N: number, variant: Variant): Uint8Array {
  const g = new GraphBuilder('bench');
  const x = g.input('x', 'float32', [1, 1, K]);
  if (variant.bits === 32) {
    const w = g.initializer('w', 'float32', [K, N], Float32Array.from({ length: K * N }, (_, i) => ((i * 37) % 255) / 255 - 0.5));
    g.alias(g.op('MatMul', [x, w]), 'y');
    g.output('y', 'float32', [1, 1, N]);
    return g.toModel({ opsetImports: [{ domain: '', version: 21 }] });
  }
  const { blockSize } = variant;
  const blocks = K / blockSize;
  const packed = new Uint8Array((N * K) / 2).map((_, i) => (i * 37) & 255);
  const inputs = [
    x,
    g.initializer('b', 'uint8', [N, blocks, blockSize / 2], packed),
    g.initializer('s', 'float32', [N * blocks], Float32Array.from({ length: N * blocks }, (_, i) => 0.01 + (i % 7) * 0.001)),
  ];
  if (variant.zeroPoints) {
    const length = N * Math.ceil(blocks / 2);
    inputs.push(g.initializer('z', 'uint8', [length], new Uint8Array(length).map((_, i) => (i * 13) & 255)));
  }
  const y = g.op('MatMulNBits', inputs, {
    K: attribute.int(K), N: attribute.int(N), bits: attribute.int(4), block_size: attribute.int(blockSize),
    accuracy_level: attribute.int(variant.accuracyLevel),
  }, { domain: 'com.microsoft' });
  g.alias(y, 'y');
  g.output('y', 'float32', [1, 1, N]);
  return g.toModel({ opsetImports: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }] });
}

async function measure(model: Uint8Array, K: number): Promise<{ median: number; output: Float32Array }> {
  const input = Float32Array.from({ length: K }, (_, i) => Math.sin(i));
  let run: () => Promise<Float32Array>;
  let release: () => Promise<void>;
  if (runtime === 'wasm') {
    const session = await ortWeb.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const feeds = { x: new ortWeb.Tensor('float32', input, [1, 1, K]) };
    run = async () => (await session.run(feeds))['y']!.data as Float32Array;
    release = () => session.release();
  } else {
    const session = await ortNode.InferenceSession.create(model, { intraOpNumThreads: 1 });
    const feeds = { x: new ortNode.Tensor('float32', input, [1, 1, K]) };
    run = async () => (await session.run(feeds))['y']!.data as Float32Array;
    release = () => session.release();
  }
  let output = await run();
  for (let i = 0; i < 2; i++) output = await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  await release();
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, output };
}

const variants: Variant[] = [
  { bits: 32, blockSize: 0, zeroPoints: false, accuracyLevel: 0 },
  { bits: 4, blockSize: 32, zeroPoints: true, accuracyLevel: 0 },
  { bits: 4, blockSize: 32, zeroPoints: false, accuracyLevel: 0 },
  { bits: 4, blockSize: 32, zeroPoints: true, accuracyLevel: 1 },
  { bits: 4, blockSize: 32, zeroPoints: true, accuracyLevel: 4 },
  { bits: 4, blockSize: 32, zeroPoints: false, accuracyLevel: 4 },
  { bits: 4, blockSize: 16, zeroPoints: true, accuracyLevel: 0 },
  { bits: 4, blockSize: 64, zeroPoints: true, accuracyLevel: 0 },
  { bits: 4, blockSize: 64, zeroPoints: true, accuracyLevel: 4 },
];
console.log(`runtime ${runtime}, 1 thread, one token, median of ${runs} runs (ms)`);
for (const [K, N] of shapes) {
  let reference: Float32Array | undefined;
  for (const variant of variants) {
    const label = variant.bits === 32 ? 'fp32 MatMul' : `4-bit block ${variant.blockSize} zp ${variant.zeroPoints ? 'uint8' : 'none'} acc ${variant.accuracyLevel}`;
    try {
      const { median, output } = await measure(buildModel(K, N, variant), K);
      let note = '';
      if (variant.bits === 4 && variant.blockSize === 32 && variant.zeroPoints && variant.accuracyLevel === 0) reference = output;
      else if (reference !== undefined && variant.bits === 4 && variant.blockSize === 32 && variant.zeroPoints) {
        let largest = 0;
        let difference = 0;
        reference.forEach((value, index) => {
          largest = Math.max(largest, Math.abs(value));
          difference = Math.max(difference, Math.abs(value - output[index]!));
        });
        note = ` (max rel. diff vs acc 0: ${(difference / largest).toExponential(1)})`;
      }
      console.log(`${K}x${N} ${label}: ${median.toFixed(3)} ms${note}`);
    } catch (error) {
      console.log(`${K}x${N} ${label}: ERROR ${String(error).slice(0, 200)}`);
    }
  }
}
