import { GraphBuilder, attribute } from '@qaq/onnx-graph';
import ort from 'onnxruntime-node';
const P = 4096, H = 3, G = 3, D = 64;
async function time(label: string, build: (g: GraphBuilder, q: string, k: string) => string, qShape: number[]) {
  const g = new GraphBuilder('t');
  const q = g.input('q', 'float32', qShape);
  const k = g.input('k', 'float32', [1, P, H, D]);
  const y = build(g, q, k);
  g.output(y, 'float32', ['a', 'b', 'c', 'd'].slice(0, 4) as unknown as number[]);
  const model = g.toModel({ opsetImports: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }] });
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const caches = Array.from({ length: 8 }, () => new ort.Tensor('float32', Float32Array.from({ length: P * H * D }, () => Math.random()), [1, P, H, D]));
  const qt = new ort.Tensor('float32', Float32Array.from({ length: qShape.reduce((a, b) => a * b) }, () => Math.random()), qShape);
  let out: Float32Array | undefined;
  for (let i = 0; i < 20; i++) out = (Object.values(await s.run({ q: qt, k: caches[i % 8]! }))[0]!.data as Float32Array);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) out = (Object.values(await s.run({ q: qt, k: caches[i % 8]! }))[0]!.data as Float32Array);
  console.log(label, ((performance.now() - t0) / 200 * 1000).toFixed(0), 'us', out!.slice(0, 2));
}
// default: Transpose K to [1,H,D,P] (ORT fuses into FusedMatMul), q [1,H,G,D]
await time('transpose+matmul M=3', (g, q, k) => g.op('MatMul', [q, g.op('Transpose', [k], { perm: attribute.ints([0, 2, 3, 1]) })]), [1, H, G, D]);
await time('fused transBatch M=3', (g, q, k) => g.op('FusedMatMul', [g.op('Reshape', [q, g.int64([H, G, D])]), g.op('Reshape', [k, g.int64([P, H, D])])], { transB: attribute.int(1), transBatchB: attribute.int(1) }, { domain: 'com.microsoft' }), [1, H, G, D]);
await time('fused transBatch M=1 bcast', (g, q, k) => g.op('FusedMatMul', [g.op('Reshape', [q, g.int64([H, G, 1, D])]), g.op('Reshape', [k, g.int64([P, H, 1, D])])], { transB: attribute.int(1), transBatchB: attribute.int(1) }, { domain: 'com.microsoft' }), [1, H, G, D]);
await time('concat-copy only', (g, q, k) => g.op('Concat', [k, g.op('Slice', [k, g.int64([0]), g.int64([1]), g.int64([1])])], { axis: attribute.int(1) }), [1, H, G, D]);
