import { check, checkClose, checkEqual, checkSameList } from '../assertions.js';
import { type ConformanceCheck, outputNumbers } from '../check.js';
import { matMulPrecision, matMulTolerance } from '../matmul-precision.js';
import { randomFloats, seededRandom } from '../random.js';
import { referenceAdd, referenceMatMul, referenceSoftmax } from '../reference.js';

// float32 keeps 24 bits: 2^-23 relative per rounding, with headroom for fused or reordered arithmetic on GPUs.
const float32Epsilon = 2 ** -23;

export const numericsChecks: ConformanceCheck[] = [
  {
    id: 'add-numerics',
    title: 'Add matches a float64 reference for several values of a symbolic batch dimension',
    fixtures: ['add'],
    async run({ backend, openSession }) {
      const session = await openSession('add');
      checkSameList(session.inputs.map((input) => input.name), ['a', 'b'], 'input names');
      checkEqual(session.inputs[0]?.dataType, 'float32', 'input a dataType');
      checkSameList(session.inputs[0]?.dimensions ?? [], ['batch', 4], 'input a dimensions');
      checkSameList(session.outputs.map((output) => output.name), ['sum'], 'output names');
      const random = seededRandom(1);
      for (const batch of [1, 3, 7, 64]) {
        const left = randomFloats(random, batch * 4, -100, 100);
        const right = randomFloats(random, batch * 4, -100, 100);
        const outputs = await session.run({
          a: backend.createTensor('float32', left, [batch, 4]),
          b: backend.createTensor('float32', right, [batch, 4]),
        });
        checkSameList(outputs['sum']?.dimensions ?? [], [batch, 4], `sum dimensions for batch ${batch}`);
        const expected = referenceAdd(left, right);
        checkClose(await outputNumbers(outputs, 'sum'), expected, (index) => Math.abs(expected[index] ?? 0) * float32Epsilon, `sum (batch ${batch})`);
      }
    },
  },
  {
    id: 'matmul-numerics',
    title: 'MatMul matches a float64 reference with every dimension symbolic (TF32 tolerance on cuda)',
    fixtures: ['matmul'],
    async run({ backend, openSession, strictFloat32MatMul }) {
      const session = await openSession('matmul');
      // The provider the session really runs on sets the precision: TF32 on cuda (no way to turn it off from
      // onnxruntime-node), float32 everywhere else and whenever the caller asks for strict float32.
      const precision = matMulPrecision(session.provider, strictFloat32MatMul === true);
      const random = seededRandom(2);
      for (const [rows, inner, columns] of [[1, 1, 1], [2, 3, 4], [5, 16, 3], [8, 67, 9]] as const) {
        const left = randomFloats(random, rows * inner);
        const right = randomFloats(random, inner * columns);
        const outputs = await session.run({
          left: backend.createTensor('float32', left, [rows, inner]),
          right: backend.createTensor('float32', right, [inner, columns]),
        });
        checkSameList(outputs['product']?.dimensions ?? [], [rows, columns], 'product dimensions');
        const { product, magnitude } = referenceMatMul(left, right, rows, inner, columns);
        checkClose(
          await outputNumbers(outputs, 'product'),
          product,
          (index) => matMulTolerance(precision, inner, magnitude[index] ?? 0),
          `product ${rows}x${inner}x${columns} (${precision} on ${session.provider})`,
        );
      }
    },
  },
  {
    id: 'softmax-numerics',
    title: 'Softmax over the last axis matches a float64 reference, large logits included',
    fixtures: ['softmax'],
    async run({ backend, openSession }) {
      const session = await openSession('softmax');
      const random = seededRandom(3);
      for (const [rows, width, spread] of [[1, 5, 1], [3, 17, 10], [2, 128, 80]] as const) {
        const logits = randomFloats(random, rows * width, -spread, spread);
        const outputs = await session.run({ logits: backend.createTensor('float32', logits, [rows, width]) });
        const expected = referenceSoftmax(logits, rows, width);
        const actual = await outputNumbers(outputs, 'probabilities');
        checkClose(actual, expected, (index) => 1e-6 + 64 * float32Epsilon * (expected[index] ?? 0), `softmax ${rows}x${width}`);
        for (let row = 0; row < rows; row += 1) {
          let total = 0;
          for (let column = 0; column < width; column += 1) total += actual[row * width + column] ?? Number.NaN;
          check(Math.abs(total - 1) < 1e-5, `softmax row ${row} of ${rows}x${width} sums to ${total}`);
        }
      }
    },
  },
  {
    id: 'caller-buffer-views',
    title: 'feeds may be views into a larger caller buffer (byteOffset respected, nothing outside read)',
    fixtures: ['add'],
    async run({ backend, openSession }) {
      const session = await openSession('add');
      const arena = new Float32Array(64).fill(1000);
      const left = arena.subarray(8, 16);
      const right = arena.subarray(40, 48);
      for (let index = 0; index < 8; index += 1) {
        left[index] = index;
        right[index] = 10 * index;
      }
      const a = backend.createTensor('float32', left, [2, 4]);
      const b = backend.createTensor('float32', right, [2, 4]);
      const first = await outputNumbers(await session.run({ a, b }), 'sum');
      checkSameList(Array.from(first), [0, 11, 22, 33, 44, 55, 66, 77], 'sum of views');
      // The tensors are reused: writing the caller's buffer changes what the next run reads.
      left.fill(1);
      const second = await outputNumbers(await session.run({ a, b }), 'sum');
      checkSameList(Array.from(second), [1, 11, 21, 31, 41, 51, 61, 71], 'sum after rewriting the caller buffer');
    },
  },
];
