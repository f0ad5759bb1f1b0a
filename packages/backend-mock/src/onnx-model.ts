import type { Dimension, TensorData, TensorDataType, ValueMetadata } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { allocate, onnxDataTypes } from '@qaq/backend-common';
import { type ProtobufField, ProtobufReader } from './protobuf-reader.js';

/** A tensor value inside the mock: element type, concrete dimensions and a typed array. */
export interface MockValue {
  readonly dataType: TensorDataType;
  readonly dimensions: readonly number[];
  readonly data: TensorData;
}

export type AttributeValue = number | bigint | string | readonly number[] | readonly bigint[] | MockValue;

export interface GraphNode {
  readonly name: string;
  readonly opType: string;
  /** '' for the default ONNX domain. */
  readonly domain: string;
  /** Input value names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, AttributeValue>;
}

export interface OnnxModel {
  readonly nodes: readonly GraphNode[];
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  readonly initializers: ReadonlyMap<string, MockValue>;
}

function invalid(reason: string): QaqError {
  return new QaqError('invalid-model', `Not an ONNX model the mock can read: ${reason}`, { details: { reason } });
}

function readValueInfo(reader: ProtobufReader): ValueMetadata {
  let name = '';
  let dataType: TensorDataType | undefined;
  let dimensions: Dimension[] | undefined;
  while (!reader.done) {
    const field = reader.next();
    if (field.number === 1) name = reader.string(field);
    if (field.number !== 2) continue;
    const type = reader.message(field);
    while (!type.done) {
      const typeField = type.next();
      if (typeField.number !== 1) continue; // only tensor_type
      const tensorType = type.message(typeField);
      while (!tensorType.done) {
        const tensorField = tensorType.next();
        if (tensorField.number === 1) dataType = onnxDataTypes[Number(tensorField.varint)];
        if (tensorField.number !== 2) continue;
        dimensions = [];
        const shape = tensorType.message(tensorField);
        while (!shape.done) {
          const dimensionField = shape.next();
          if (dimensionField.number !== 1) continue;
          const dimension = shape.message(dimensionField);
          let value: Dimension = '';
          while (!dimension.done) {
            const part = dimension.next();
            if (part.number === 1) value = Number(part.varint);
            if (part.number === 2) value = dimension.string(part);
          }
          dimensions.push(value);
        }
      }
    }
  }
  return Object.freeze({ name, dataType, dimensions: dimensions === undefined ? undefined : Object.freeze(dimensions) });
}

function readTensor(reader: ProtobufReader): MockValue & { name: string } {
  const dimensions: number[] = [];
  let dataTypeNumber = 0;
  let name = '';
  let raw: ProtobufField | undefined;
  const typed: ProtobufField[] = [];
  while (!reader.done) {
    const field = reader.next();
    if (field.number === 1) dimensions.push(...reader.varints(field).map(Number));
    else if (field.number === 2) dataTypeNumber = Number(field.varint);
    else if (field.number === 8) name = reader.string(field);
    else if (field.number === 9) raw = field;
    else if ([4, 5, 7, 10, 11].includes(field.number)) typed.push(field);
  }
  const dataType = onnxDataTypes[dataTypeNumber];
  if (dataType === undefined) throw invalid(`initializer '${name}' has unsupported data type ${dataTypeNumber}`);
  const count = dimensions.reduce((product, size) => product * size, 1);
  const data = allocate(dataType, count);
  if (raw !== undefined) {
    const bytes = reader.bytes.slice(raw.start, raw.end);
    if (bytes.byteLength !== data.byteLength) throw invalid(`initializer '${name}' has ${bytes.byteLength} raw bytes`);
    new Uint8Array(data.buffer).set(bytes);
  } else {
    const values: (number | bigint)[] = [];
    for (const field of typed) {
      if (field.number === 4) {
        const view = reader.view(field);
        for (let offset = 0; offset < view.byteLength; offset += 4) values.push(view.getFloat32(offset, true));
      } else if (field.number === 10) {
        const view = reader.view(field);
        for (let offset = 0; offset < view.byteLength; offset += 8) values.push(view.getFloat64(offset, true));
      } else values.push(...reader.varints(field));
    }
    if (values.length !== count) throw invalid(`initializer '${name}' has ${values.length} values for ${count} elements`);
    values.forEach((value, index) => {
      if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[index] = BigInt(value);
      else data[index] = Number(value);
    });
  }
  return { name, dataType, dimensions, data };
}

function readAttribute(reader: ProtobufReader): [string, AttributeValue] {
  let name = '';
  let value: AttributeValue | undefined;
  const ints: bigint[] = [];
  const floats: number[] = [];
  while (!reader.done) {
    const field = reader.next();
    if (field.number === 1) name = reader.string(field);
    else if (field.number === 2) value = reader.view(field).getFloat32(0, true);
    else if (field.number === 3) value = field.varint;
    else if (field.number === 4) value = reader.string(field);
    else if (field.number === 5) value = readTensor(reader.message(field));
    else if (field.number === 7) {
      const view = reader.view(field);
      for (let offset = 0; offset < view.byteLength; offset += 4) floats.push(view.getFloat32(offset, true));
    } else if (field.number === 8) ints.push(...reader.varints(field));
  }
  return [name, value ?? (ints.length > 0 ? ints : floats)];
}

function readNode(reader: ProtobufReader): GraphNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes = new Map<string, AttributeValue>();
  let name = '';
  let opType = '';
  let domain = '';
  while (!reader.done) {
    const field = reader.next();
    if (field.number === 1) inputs.push(reader.string(field));
    else if (field.number === 2) outputs.push(reader.string(field));
    else if (field.number === 3) name = reader.string(field);
    else if (field.number === 4) opType = reader.string(field);
    else if (field.number === 5) attributes.set(...readAttribute(reader.message(field)));
    else if (field.number === 7) domain = reader.string(field);
  }
  if (opType === '') throw invalid(`node '${name}' has no op_type`);
  return { name, opType, domain: domain === 'ai.onnx' ? '' : domain, inputs, outputs, attributes };
}

/** Decodes the parts of an ONNX ModelProto the mock evaluates: the main graph's nodes, inputs, outputs, weights. */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) throw invalid('the bytes are empty');
  const model = new ProtobufReader(bytes);
  let graph: ProtobufReader | undefined;
  let irVersion = 0n;
  while (!model.done) {
    const field = model.next();
    if (field.number === 1 && field.wireType === 0) irVersion = field.varint;
    if (field.number === 7) graph = model.message(field);
  }
  if (graph === undefined || irVersion <= 0n) throw invalid('no ir_version or no graph');
  const nodes: GraphNode[] = [];
  const declaredInputs: ValueMetadata[] = [];
  const outputs: ValueMetadata[] = [];
  const initializers = new Map<string, MockValue>();
  while (!graph.done) {
    const field = graph.next();
    if (field.number === 1) nodes.push(readNode(graph.message(field)));
    else if (field.number === 5) {
      const { name, ...value } = readTensor(graph.message(field));
      initializers.set(name, value);
    } else if (field.number === 11) declaredInputs.push(readValueInfo(graph.message(field)));
    else if (field.number === 12) outputs.push(readValueInfo(graph.message(field)));
  }
  if (outputs.length === 0) throw invalid('the graph has no outputs');
  // Inputs that are also initializers have defaults; like onnxruntime, the mock does not ask for them.
  const inputs = declaredInputs.filter((input) => !initializers.has(input.name));
  return { nodes, inputs, outputs, initializers };
}
