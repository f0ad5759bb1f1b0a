// What the backend adds per run over calling onnxruntime-node directly (validation, wrapping), on a small MatMul.
// Run: node --conditions=source --import tsx packages/backend-node/bench/run-overhead.ts
import { fixtureModel } from '@qaq/backend-conformance';
import ort from 'onnxruntime-node';
import { createNodeBackend } from '../src/index.js';

const size = 64;
const iterations = 5000;
const left = new Float32Array(size * size).fill(0.5);
const right = new Float32Array(size * size).fill(0.25);

async function time(label: string, run: () => Promise<unknown>): Promise<void> {
  for (let index = 0; index < 500; index += 1) await run();
  const start = process.hrtime.bigint();
  for (let index = 0; index < iterations; index += 1) await run();
  const microseconds = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  console.log(`${label}: ${microseconds.toFixed(1)} µs/run`);
}

const raw = await ort.InferenceSession.create(fixtureModel('matmul'), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
const rawFeeds = { left: new ort.Tensor('float32', left, [size, size]), right: new ort.Tensor('float32', right, [size, size]) };
const rawOutput = new ort.Tensor('float32', new Float32Array(size * size), [size, size]);

const backend = createNodeBackend();
const session = await backend.createSession(fixtureModel('matmul'), { executionProviders: ['cpu'], intraOpThreads: 1 });
const feeds = { left: backend.createTensor('float32', left, [size, size]), right: backend.createTensor('float32', right, [size, size]) };
const product = backend.createTensor('float32', new Float32Array(size * size), [size, size]);

for (let round = 0; round < 2; round += 1) {
  await time('onnxruntime-node, new output', () => raw.run(rawFeeds));
  await time('onnxruntime-node, preallocated output', () => raw.run(rawFeeds, { product: rawOutput }));
  await time('backend-node, new output', () => session.run(feeds));
  await time('backend-node, preallocated output', () => session.run(feeds, { outputs: { product } }));
}
await raw.release();
await session.dispose();
