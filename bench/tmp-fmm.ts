import { GraphBuilder, attribute } from '@qaq/onnx-graph';
import ort from 'onnxruntime-node';
for (const [label, aShape, bShape, attrs] of [
  ['scores P=0', [3, 3, 64], [0, 3, 64], { transB: 1, transBatchB: 1 }],
  ['scores P=5', [3, 3, 64], [5, 3, 64], { transB: 1, transBatchB: 1 }],
  ['weights K=0', [3, 3, 0], [0, 3, 64], { transBatchB: 1 }],
  ['weights K=0 plain', [3, 3, 0], [3, 0, 64], {}],
] as const) {
  const g = new GraphBuilder('t');
  const a = g.input('a', 'float32', aShape as unknown as number[]);
  const b = g.input('b', 'float32', bShape as unknown as number[]);
  const at: Record<string, ReturnType<typeof attribute.int>> = {};
  for (const [k, v] of Object.entries(attrs)) at[k] = attribute.int(v);
  const y = g.op('FusedMatMul', [a, b], at, { domain: 'com.microsoft' });
  g.output(y, 'float32', [-1, -1, -1] as unknown as number[]);
  const model = g.toModel({ opsetImports: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }] });
  const s = await ort.InferenceSession.create(model);
  const size = (d: readonly number[]) => d.reduce((x, y) => x * y, 1);
  console.log(label, 'running');
  const r = await s.run({ a: new ort.Tensor('float32', new Float32Array(size(aShape)).fill(1), aShape as unknown as number[]), b: new ort.Tensor('float32', new Float32Array(size(bShape)).fill(1), bShape as unknown as number[]) });
  const out = Object.values(r)[0]!;
  console.log(label, out.dims, (out.data as Float32Array).slice(0, 4));
}
