import { QaqError } from '@qaq/errors';
import { encodeModel } from './encode-model.js';
import type { Attribute, Dimension, ElementType, NodeInit, OpsetImport, TensorInit, ValueInfo } from './onnx-types.js';

export interface NodeOptions {
  readonly domain?: string;
  readonly outputCount?: number;
  /** Explicit output names (graph outputs); otherwise unique names are generated. */
  readonly outputs?: readonly string[];
}

export interface ModelOptions {
  readonly opsetImports: readonly OpsetImport[];
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * A small graph-building DSL: nodes get unique output names from a scope prefix, constants are de-duplicated,
 * and `toModel` serializes everything to ONNX bytes.
 */
export class GraphBuilder {
  private readonly nodes: NodeInit[] = [];
  private readonly initializers: TensorInit[] = [];
  private readonly initializerNames = new Set<string>();
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly constantCache = new Map<string, string>();
  private counter = 0;
  private scopePrefix = '';

  constructor(readonly name: string) {}

  /** Runs `body` with node names prefixed by `prefix` (for readable graphs, e.g. "layers.3/attention"). */
  scope<T>(prefix: string, body: () => T): T {
    const saved = this.scopePrefix;
    this.scopePrefix = saved === '' ? prefix : `${saved}/${prefix}`;
    try {
      return body();
    } finally {
      this.scopePrefix = saved;
    }
  }

  input(name: string, elementType: ElementType, shape: readonly Dimension[]): string {
    this.inputs.push({ name, elementType, shape });
    return name;
  }

  output(name: string, elementType: ElementType, shape: readonly Dimension[]): string {
    this.outputs.push({ name, elementType, shape });
    return name;
  }

  initializer(name: string, elementType: ElementType, dims: readonly number[], data: ArrayBufferView): string {
    if (this.initializerNames.has(name)) {
      throw new QaqError('duplicate-initializer', `initializer ${name} already exists`, { details: { name } });
    }
    this.initializerNames.add(name);
    this.initializers.push({ name, elementType, dims, data: bytesOf(data) });
    return name;
  }

  /** Adds an initializer unless one called `name` exists (shared weights); `make` runs only when adding. */
  initializerOnce(name: string, elementType: ElementType, dims: readonly number[], make: () => ArrayBufferView): string {
    return this.initializerNames.has(name) ? name : this.initializer(name, elementType, dims, make());
  }

  /** A de-duplicated constant initializer for small int64 tensors (shapes, axes, indices). */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    return this.cachedConstant(key, 'int64', dims, () => BigInt64Array.from(values, (value) => BigInt(value)));
  }

  /** A de-duplicated constant initializer for small float32 tensors (scalars by default). */
  float32(values: readonly number[], dims: readonly number[] = []): string {
    const data = Float32Array.from(values);
    const key = `f32:${dims.join('x')}:${Array.from(data).join(',')}`;
    return this.cachedConstant(key, 'float32', dims, () => data);
  }

  private cachedConstant(key: string, type: ElementType, dims: readonly number[], make: () => ArrayBufferView): string {
    const existing = this.constantCache.get(key);
    if (existing !== undefined) return existing;
    const name = `const_${this.constantCache.size}`;
    this.initializer(name, type, dims, make());
    this.constantCache.set(key, name);
    return name;
  }

  /** Adds a node and returns its output names. */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, Attribute>> = {},
    options: NodeOptions = {},
  ): string[] {
    const id = this.counter++;
    const base = this.scopePrefix === '' ? `${opType}_${id}` : `${this.scopePrefix}/${opType}_${id}`;
    const outputs =
      options.outputs !== undefined
        ? [...options.outputs]
        : Array.from({ length: options.outputCount ?? 1 }, (_, index) => `${base}:${index}`);
    this.nodes.push({ opType, domain: options.domain ?? '', name: base, inputs, outputs, attributes });
    return outputs;
  }

  /** Adds a single-output node and returns its output name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, Attribute>> = {},
    options: Omit<NodeOptions, 'outputCount'> = {},
  ): string {
    const [output] = this.node(opType, inputs, attributes, options);
    if (output === undefined) throw new QaqError('graph-builder-bug', 'node has no output', { details: { opType } });
    return output;
  }

  /**
   * Makes `value` available as `name` without a copy node when possible: the producing node's output (and every
   * consumer) is renamed. Returns `name`; the old value name must not be used afterwards.
   */
  rename(value: string, name: string): string {
    const producer = this.nodes.findIndex((node) => node.outputs.includes(value));
    const isOutput = this.outputs.some((output) => output.name === value);
    if (producer < 0 || isOutput) return this.alias(value, name);
    const swap = (names: readonly string[]): string[] => names.map((entry) => (entry === value ? name : entry));
    this.nodes.forEach((node, index) => {
      if (index === producer || node.inputs.includes(value)) {
        this.nodes[index] = { ...node, inputs: swap(node.inputs), outputs: swap(node.outputs) };
      }
    });
    return name;
  }

  /** Routes `value` to a graph output name through an Identity node. */
  alias(value: string, outputName: string): string {
    return this.op('Identity', [value], {}, { outputs: [outputName] });
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  toModel(options: ModelOptions): Uint8Array {
    return encodeModel({
      irVersion: options.irVersion ?? 10,
      opsetImports: options.opsetImports,
      producerName: options.producerName ?? '@qaq/onnx-graph',
      producerVersion: options.producerVersion ?? '0.1.0',
      graphName: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
      metadata: options.metadata ?? {},
    });
  }
}
