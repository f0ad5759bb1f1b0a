import type { BackendSession, BackendTensor, ExecutionProviderName, Feeds, RunOptions, ValueMetadata } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { MockTensor } from './mock-tensor.js';
import type { MockValue, OnnxModel } from './onnx-model.js';
import { type Kernel, kernelKey } from './operators.js';
import { validateRun } from '@qaq/backend-common';

/** Something the mock records about each run, for tests of the code above the backend. */
export interface MockRunRecord {
  readonly feeds: readonly string[];
  readonly fetches: readonly string[];
  readonly preallocated: readonly string[];
}

function checkFits(name: string, value: MockValue, given: BackendTensor): void {
  const sameShape =
    given.dimensions.length === value.dimensions.length && given.dimensions.every((size, axis) => size === value.dimensions[axis]);
  if (!sameShape || given.dataType !== value.dataType || !('data' in given)) {
    throw new QaqError('invalid-output', `Output '${name}' is ${value.dataType}[${value.dimensions.join(', ')}]; the preallocated tensor does not fit`, {
      details: { name, reason: 'wrong-shape', expected: value.dimensions, actual: given.dimensions },
    });
  }
}

/** Evaluates a decoded ONNX graph node by node, in the (topological) order the file lists them. */
export class MockSession implements BackendSession {
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  /** Every run so far, oldest first. */
  readonly runs: MockRunRecord[] = [];
  #disposed = false;

  constructor(
    readonly model: OnnxModel,
    readonly provider: ExecutionProviderName,
    readonly kernels: Readonly<Record<string, Kernel>>,
  ) {
    this.inputs = model.inputs;
    this.outputs = model.outputs;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  async run(feeds: Feeds, options: RunOptions = {}): Promise<Readonly<Record<string, BackendTensor>>> {
    if (this.#disposed) throw new QaqError('session-disposed', 'The session was disposed', { details: {} });
    const { fetchNames } = validateRun(this.inputs, this.outputs, feeds, options);
    const values = new Map<string, MockValue>(this.model.initializers);
    for (const [name, tensor] of Object.entries(feeds)) {
      if (!('data' in tensor)) {
        throw new QaqError('invalid-feed', `'${name}' is a ${tensor.location} tensor; the mock runs on the CPU only`, {
          details: { name, reason: 'foreign-device-tensor', actual: tensor.location },
        });
      }
      values.set(name, { dataType: tensor.dataType, dimensions: tensor.dimensions, data: tensor.data });
    }
    for (const node of this.model.nodes) {
      const kernel = this.kernels[kernelKey(node)];
      if (kernel === undefined) {
        throw new QaqError('unsupported-operator', `The mock has no kernel for ${kernelKey(node)}`, {
          details: { operator: kernelKey(node), node: node.name },
        });
      }
      const results = kernel(node.inputs.map((name) => (name === '' ? undefined : values.get(name))), node);
      node.outputs.forEach((name, index) => {
        const result = results[index];
        if (name !== '' && result !== undefined) values.set(name, result);
      });
    }
    const preallocated = options.outputs ?? {};
    const produced = fetchNames.map((name): [string, MockValue] => {
      const value = values.get(name);
      if (value === undefined) {
        throw new QaqError('run-failed', `The graph did not produce output '${name}'`, { details: { reason: 'missing-output', name } });
      }
      return [name, value];
    });
    // Check every preallocated output before writing any, so a bad one leaves all caller buffers untouched.
    for (const [name, value] of produced) {
      const given = preallocated[name];
      if (given !== undefined) checkFits(name, value, given);
    }
    const borrowed = new Set<unknown>([...this.model.initializers.values(), ...Object.values(feeds)].map((tensor) => ('data' in tensor ? tensor.data : undefined)));
    const outputs: Record<string, BackendTensor> = {};
    for (const [name, value] of produced) {
      const given = preallocated[name];
      if (given !== undefined && 'data' in given) {
        // Written in place: the caller's array now holds the result, and the caller's tensor is what comes back.
        (given.data as Float64Array).set(value.data as Float64Array);
        outputs[name] = given;
      } else {
        // Outputs never alias a feed or a weight: the caller owns what comes back.
        const data = borrowed.has(value.data) ? value.data.slice() : value.data;
        outputs[name] = new MockTensor(value.dataType, data, value.dimensions);
      }
    }
    this.runs.push({ feeds: Object.keys(feeds), fetches: fetchNames, preallocated: Object.keys(preallocated) });
    return outputs;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
  }
}
