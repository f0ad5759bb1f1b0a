import type { Backend, BackendCapabilities, BackendSession, BackendTensor, SessionOptions, TensorDataType } from '@qaq/backend-spec';
import { check } from './assertions.js';
import type { FixtureName } from './fixtures.js';

/** What a check gets: the backend under test and a way to open fixture sessions (closed after the check). */
export interface ConformanceContext {
  readonly backend: Backend;
  /** Session options every check uses (e.g. the provider a GPU run must be on). */
  readonly sessionOptions: SessionOptions;
  /** Hold float32 MatMul to float32 precision on every provider, CUDA's TF32 default included (`ConformanceOptions`). */
  readonly strictFloat32MatMul?: boolean;
  openSession(fixture: FixtureName): Promise<BackendSession>;
}

/** One conformance check. It throws ConformanceFailure (or any error) when the backend is out of line. */
export interface ConformanceCheck {
  readonly id: string;
  readonly title: string;
  /** Fixtures the check loads; it is skipped when the backend lacks one of their operators. */
  readonly fixtures: readonly FixtureName[];
  /** Element types the check needs in `capabilities.dataTypes`. */
  readonly dataTypes?: readonly TensorDataType[];
  /** A capability flag the check needs. */
  readonly capability?: keyof Pick<BackendCapabilities, 'supportsPreallocatedOutputs'>;
  run(context: ConformanceContext): Promise<void>;
}

/** The elements of an output, which must be there. */
export async function outputData(outputs: Readonly<Record<string, BackendTensor>>, name: string): Promise<ArrayLike<unknown>> {
  const tensor = outputs[name];
  check(tensor !== undefined, `output '${name}' is missing from the results (got ${Object.keys(outputs).join(', ')})`);
  return tensor.read();
}

export async function outputNumbers(outputs: Readonly<Record<string, BackendTensor>>, name: string): Promise<ArrayLike<number>> {
  const tensor = outputs[name];
  check(tensor !== undefined, `output '${name}' is missing from the results (got ${Object.keys(outputs).join(', ')})`);
  check(tensor.dataType === 'float32', `output '${name}' must be float32, got ${tensor.dataType}`);
  return (await tensor.read()) as Float32Array;
}
