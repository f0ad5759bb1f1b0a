import type { Backend, BackendSession, BackendTensor, CpuTensor, ExecutionProviderName } from '@qaq/backend-spec';
import { describe, expect, it } from 'vitest';
import { ConformanceFailure } from './assertions.js';
import { conformanceChecks } from './checks/index.js';
import { matMulPrecision, matMulTolerance } from './matmul-precision.js';
import { randomFloats, seededRandom } from './random.js';
import { referenceMatMul } from './reference.js';
import { runCheck } from './run-checks.js';

const float32Bits = new Uint32Array(1);
const float32View = new Float32Array(float32Bits.buffer);

/** A float32 value as TF32 keeps it: 10 mantissa bits, by truncation or by rounding to nearest. */
function toTf32(value: number, rounding: 'truncate' | 'nearest'): number {
  float32View[0] = value;
  if (rounding === 'nearest') float32Bits[0] = (float32Bits[0]! + 0x1000) >>> 0;
  float32Bits[0] = (float32Bits[0]! & 0xffffe000) >>> 0;
  return float32View[0]!;
}

/** What a tensor-core TF32 MatMul computes: TF32 inputs, float32 products and float32 accumulation. */
function tf32MatMul(left: Float32Array, right: Float32Array, rows: number, inner: number, columns: number, rounding: 'truncate' | 'nearest'): Float32Array {
  const product = new Float32Array(rows * columns);
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column < columns; column += 1) {
      let sum = 0;
      for (let step = 0; step < inner; step += 1) {
        const term = Math.fround(toTf32(left[row * inner + step]!, rounding) * toTf32(right[step * columns + column]!, rounding));
        sum = Math.fround(sum + term);
      }
      product[row * columns + column] = sum;
    }
  }
  return product;
}

/** The shapes and seeded inputs of `matmul-numerics`, in its order. */
function checkInputs(): { rows: number; inner: number; columns: number; left: Float32Array; right: Float32Array }[] {
  const random = seededRandom(2);
  return ([[1, 1, 1], [2, 3, 4], [5, 16, 3], [8, 67, 9]] as const).map(([rows, inner, columns]) => ({
    rows,
    inner,
    columns,
    left: randomFloats(random, rows * inner),
    right: randomFloats(random, inner * columns),
  }));
}

/** Largest error over the allowed error, for every element of every shape of the check. */
function worstRatio(precision: 'float32' | 'tf32', compute: (input: ReturnType<typeof checkInputs>[number]) => Float32Array): number {
  let worst = 0;
  for (const input of checkInputs()) {
    const actual = compute(input);
    const { product, magnitude } = referenceMatMul(input.left, input.right, input.rows, input.inner, input.columns);
    for (let index = 0; index < product.length; index += 1) {
      worst = Math.max(worst, Math.abs(actual[index]! - product[index]!) / matMulTolerance(precision, input.inner, magnitude[index]!));
    }
  }
  return worst;
}

describe('matMulPrecision', () => {
  it('assumes TF32 on cuda only, and float32 everywhere when strict float32 is asked for', () => {
    expect(matMulPrecision('cuda')).toBe('tf32');
    for (const provider of ['cpu', 'webgpu', 'wasm', 'toString']) expect(matMulPrecision(provider)).toBe('float32');
    expect(matMulPrecision('cuda', true)).toBe('float32');
  });
});

describe('matMulTolerance', () => {
  it("reproduces the H200 run: CUDA's product 2x3x4[0] fails the float32 bound and passes the TF32 one", () => {
    // docs/benchmarks/gpu/h200-device-check-1.log: expected 0.005202110953015149, got 0.005256205797195435.
    const { left, right, rows, inner, columns } = checkInputs()[1]!;
    const { product, magnitude } = referenceMatMul(left, right, rows, inner, columns);
    expect(product[0]).toBe(0.005202110953015149);
    const error = Math.abs(0.005256205797195435 - product[0]!);
    expect(matMulTolerance('float32', inner, magnitude[0]!)).toBeCloseTo(4.88163311673096e-7, 20);
    expect(error).toBeGreaterThan(matMulTolerance('float32', inner, magnitude[0]!));
    expect(error).toBeLessThan(matMulTolerance('tf32', inner, magnitude[0]!));
  });

  it('holds a simulated TF32 MatMul (truncating or rounding) on every shape of the check, which float32 does not', () => {
    for (const rounding of ['truncate', 'nearest'] as const) {
      const tf32 = (input: ReturnType<typeof checkInputs>[number]) => tf32MatMul(input.left, input.right, input.rows, input.inner, input.columns, rounding);
      expect(worstRatio('tf32', tf32)).toBeLessThanOrEqual(1);
      expect(worstRatio('float32', tf32)).toBeGreaterThan(1);
    }
  });

  it('still catches a dropped term or a transposed operand under the TF32 tolerance (not a 10-bit accumulator)', () => {
    const droppedLastTerm = ({ left, right, rows, inner, columns }: ReturnType<typeof checkInputs>[number]) =>
      tf32MatMul(left.map((value, index) => (index % inner === inner - 1 && inner > 1 ? 0 : value)), right, rows, inner, columns, 'nearest');
    const transposedRight = ({ left, right, rows, inner, columns }: ReturnType<typeof checkInputs>[number]) => {
      const transposed = new Float32Array(right.length);
      for (let index = 0; index < right.length; index += 1) transposed[index] = right[(index % inner) * columns + Math.floor(index / inner)] ?? 0;
      return tf32MatMul(left, transposed, rows, inner, columns, 'nearest');
    };
    const tenBitAccumulation = ({ left, right, rows, inner, columns }: ReturnType<typeof checkInputs>[number]) => {
      // Every partial sum rounded to 10 mantissa bits too (a half-precision accumulator), not only the inputs.
      const product = new Float32Array(rows * columns);
      for (let index = 0; index < product.length; index += 1) {
        const row = Math.floor(index / columns);
        const column = index % columns;
        let sum = 0;
        for (let step = 0; step < inner; step += 1) {
          sum = toTf32(sum + toTf32(left[row * inner + step]!, 'nearest') * toTf32(right[step * columns + column]!, 'nearest'), 'nearest');
        }
        product[index] = sum;
      }
      return product;
    };
    for (const faulty of [droppedLastTerm, transposedRight]) expect(worstRatio('tf32', faulty)).toBeGreaterThan(1);
    // The limit of the TF32 allowance: at the check's sizes (inner ≤ 67) a 10-bit accumulator stays inside it; only
    // strict float32 (`strictFloat32MatMul`) catches one.
    expect(worstRatio('tf32', tenBitAccumulation)).toBeLessThan(1);
    expect(worstRatio('float32', tenBitAccumulation)).toBeGreaterThan(1);
  });
});

/** A backend whose only model is the check's MatMul, computed in TF32, on a provider of the test's choice. */
function tf32Backend(provider: ExecutionProviderName): Backend {
  const createTensor = (dataType: 'float32', data: Float32Array, dimensions: readonly number[]): CpuTensor<'float32'> => ({
    dataType,
    data,
    dimensions,
    size: data.length,
    location: 'cpu',
    disposed: false,
    read: async () => data,
    dispose: () => undefined,
  });
  const session: BackendSession = {
    provider,
    inputs: [],
    outputs: [],
    disposed: false,
    async run(feeds: Readonly<Record<string, BackendTensor>>) {
      const left = feeds['left'] as CpuTensor<'float32'>;
      const right = feeds['right'] as CpuTensor<'float32'>;
      const [rows, inner] = left.dimensions as [number, number];
      const columns = right.dimensions[1]!;
      return { product: createTensor('float32', tf32MatMul(left.data, right.data, rows, inner, columns, 'truncate'), [rows, columns]) };
    },
    dispose: async () => undefined,
  };
  return {
    specificationVersion: 'v1',
    name: `tf32 on ${provider}`,
    capabilities: { providers: [provider], supportsPreallocatedOutputs: false, supportsGpuBufferOutputs: false, dataTypes: ['float32'], operators: ['MatMul'] },
    probe: async () => [{ name: provider, available: true }],
    createSession: async () => session,
    createTensor: createTensor as Backend['createTensor'],
  };
}

describe('matmul-numerics', () => {
  const matmulCheck = conformanceChecks.find((check) => check.id === 'matmul-numerics')!;

  it('takes the precision from the provider the session runs on: TF32 passes on cuda, fails on cpu and under strict float32', async () => {
    await expect(runCheck(matmulCheck, tf32Backend('cuda'))).resolves.toBeUndefined();
    await expect(runCheck(matmulCheck, tf32Backend('cpu'))).rejects.toThrow(ConformanceFailure);
    await expect(runCheck(matmulCheck, tf32Backend('cpu'))).rejects.toThrow(/\(float32 on cpu\)/);
    await expect(runCheck(matmulCheck, tf32Backend('cuda'), { strictFloat32MatMul: true })).rejects.toThrow(/\(float32 on cuda\)/);
  });
});
