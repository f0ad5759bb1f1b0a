// What onnxruntime-node charges per run for preallocated outputs: it copies every fetched output into a new
// ArrayBuffer, preallocated ones included. 60 outputs (30 layers × K, V) written in place by Identity over the same
// buffer, like GroupQueryAttention's present outputs in shared-buffer mode; sizes of SmolLM2's int4 and int8 caches at
// 2,304 tokens of capacity.
// node --conditions=source --import tsx packages/runtime/bench/ort-output-copy.ts
import { createNodeBackend } from '@qaq/backend-node';
import type { BackendTensor } from '@qaq/backend-spec';
import { GraphBuilder } from '@qaq/onnx-graph';

const backend = createNodeBackend();
const kib = 1024;
for (const [label, bytesPerBuffer] of [['2 KiB', 2 * kib], ['int4, 2,304 tokens', 3 * 2304 * 32], ['int8, 2,304 tokens', 3 * 2304 * 64]] as const) {
  const g = new GraphBuilder('output-copy');
  for (let index = 0; index < 60; index++) {
    g.input(`past.${index}`, 'uint8', [bytesPerBuffer]);
    g.node('Identity', [`past.${index}`], {}, { outputs: [`present.${index}`] });
    g.output(`present.${index}`, 'uint8', [bytesPerBuffer]);
  }
  const session = await backend.createSession(g.toModel({ opsetImports: [{ domain: '', version: 21 }] }), { intraOpThreads: 1 });
  const feeds: Record<string, BackendTensor> = {};
  const outputs: Record<string, BackendTensor> = {};
  for (let index = 0; index < 60; index++) {
    const tensor = backend.createTensor('uint8', new Uint8Array(bytesPerBuffer), [bytesPerBuffer]);
    feeds[`past.${index}`] = tensor;
    outputs[`present.${index}`] = tensor;
  }
  const times: number[] = [];
  for (let run = 0; run < 40; run++) {
    const started = performance.now();
    await session.run(feeds, { outputs });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(20)} 60 × ${(bytesPerBuffer / kib).toFixed(0)} KiB = ${((60 * bytesPerBuffer) / 1e6).toFixed(1)} MB: ` +
      `median ${times[20]!.toFixed(2)} ms, min ${times[0]!.toFixed(2)} ms per run`,
  );
  await session.dispose();
}
