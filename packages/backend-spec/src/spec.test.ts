// Type-level checks of the specification (the package has no runtime code to test).
import { describe, expectTypeOf, it } from 'vitest';
import type { Backend, BackendTensor, CpuTensor, ExecutionProviderProbe, TensorData } from './index.js';

describe('backend specification v1', () => {
  it('pins the version literal and types tensor data by element type', () => {
    expectTypeOf<Backend['specificationVersion']>().toEqualTypeOf<'v1'>();
    expectTypeOf<TensorData<'int64'>>().toEqualTypeOf<BigInt64Array>();
    expectTypeOf<TensorData<'float16'>>().toEqualTypeOf<Uint16Array>();
    expectTypeOf<ReturnType<Backend['createTensor']>>().toMatchTypeOf<CpuTensor>();
  });

  it('makes CPU data reachable only after narrowing on location', () => {
    const readFirst = (tensor: BackendTensor<'float32'>): number | undefined =>
      tensor.location === 'cpu' || tensor.location === 'cpu-pinned' ? tensor.data[0] : undefined;
    expectTypeOf(readFirst).returns.toEqualTypeOf<number | undefined>();
    // @ts-expect-error a device tensor has no data
    expectTypeOf<BackendTensor['data']>();
  });

  it('requires reason, missing and details on an unavailable probe', () => {
    const unavailable: ExecutionProviderProbe = { name: 'cuda', available: false, reason: 'missing-library', missing: ['libcudnn.so.9'], details: 'no cuDNN' };
    expectTypeOf(unavailable).toMatchTypeOf<ExecutionProviderProbe>();
    // @ts-expect-error an unavailable probe must say why
    const incomplete: ExecutionProviderProbe = { name: 'cuda', available: false };
    expectTypeOf(incomplete).not.toBeNever();
  });
});
