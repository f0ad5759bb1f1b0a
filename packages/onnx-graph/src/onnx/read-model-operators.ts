import { QaqError } from '@qaq/errors';

/**
 * A minimal ONNX ModelProto reader: just what an operator audit needs — the opset imports, every node's op type,
 * domain, inputs, outputs and integer attributes, and the element types of the graph inputs and initializers.
 * Field numbers from the public onnx.proto (the same ones `encode-model.ts` writes). Unknown fields are skipped.
 */

export interface ModelNode {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer attributes by name (e.g. Cast's `to`). */
  readonly intAttributes: Readonly<Record<string, number>>;
}

export interface ModelOperators {
  readonly opsets: ReadonlyMap<string, number>;
  readonly nodes: readonly ModelNode[];
  /** ONNX TensorProto.DataType of every graph input and initializer, by name. */
  readonly valueTypes: ReadonlyMap<string, number>;
}

const MODEL = { graph: 7, opsetImport: 8 };
const OPSET = { domain: 1, version: 2 };
const GRAPH = { node: 1, initializer: 5, input: 11 };
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 };
const ATTRIBUTE = { name: 1, i: 3 };
const TENSOR = { dataType: 2, name: 8 };
const VALUE_INFO = { name: 1, type: 2 };
const TYPE = { tensorType: 1 };
const TENSOR_TYPE = { elemType: 1 };

type Field = { readonly number: number; readonly wire: number; readonly value: number; readonly bytes: Uint8Array };

/** UTF-8 bytes → string without TextDecoder (not in this pure package's ES2022 lib). */
function utf8(bytes: Uint8Array): string {
  let ascii = true;
  for (const byte of bytes) if (byte >= 0x80) ascii = false;
  if (ascii) return String.fromCharCode(...bytes);
  let escaped = '';
  for (const byte of bytes) escaped += `%${byte.toString(16).padStart(2, '0')}`;
  return decodeURIComponent(escaped);
}

function corrupt(message: string, details: Record<string, unknown>): never {
  throw new QaqError('invalid-model', message, { details });
}

/** Splits one message into its fields (varints as numbers; length-delimited fields as byte views). */
function fields(bytes: Uint8Array): Field[] {
  const result: Field[] = [];
  let position = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (position >= bytes.length) corrupt('truncated varint', { position });
      const byte = bytes[position++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  while (position < bytes.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) result.push({ number, wire, value: varint(), bytes: new Uint8Array(0) });
    else if (wire === 2) {
      const length = varint();
      if (position + length > bytes.length) corrupt('truncated field', { number, length, position });
      result.push({ number, wire, value: length, bytes: bytes.subarray(position, position + length) });
      position += length;
    } else if (wire === 1) position += 8;
    else if (wire === 5) position += 4;
    else corrupt('unsupported wire type', { wire, number });
  }
  return result;
}

const text = (field: Field): string => utf8(field.bytes);

/** Reads the operators and the input/initializer types of an ONNX model. */
export function readModelOperators(model: Uint8Array): ModelOperators {
  const opsets = new Map<string, number>();
  const nodes: ModelNode[] = [];
  const valueTypes = new Map<string, number>();
  for (const field of fields(model)) {
    if (field.number === MODEL.opsetImport && field.wire === 2) {
      let domain = '';
      let version = 0;
      for (const inner of fields(field.bytes)) {
        if (inner.number === OPSET.domain) domain = text(inner);
        if (inner.number === OPSET.version) version = inner.value;
      }
      opsets.set(domain === 'ai.onnx' ? '' : domain, version);
    }
    if (field.number !== MODEL.graph || field.wire !== 2) continue;
    for (const graphField of fields(field.bytes)) {
      if (graphField.number === GRAPH.node) nodes.push(readNode(graphField.bytes));
      if (graphField.number === GRAPH.initializer) {
        let name = '';
        let dataType = 0;
        for (const inner of fields(graphField.bytes)) {
          if (inner.number === TENSOR.name) name = text(inner);
          if (inner.number === TENSOR.dataType) dataType = inner.value;
        }
        valueTypes.set(name, dataType);
      }
      if (graphField.number === GRAPH.input) {
        let name = '';
        let dataType = 0;
        for (const inner of fields(graphField.bytes)) {
          if (inner.number === VALUE_INFO.name) name = text(inner);
          if (inner.number === VALUE_INFO.type) {
            for (const typeField of fields(inner.bytes)) {
              if (typeField.number !== TYPE.tensorType) continue;
              for (const tensorField of fields(typeField.bytes)) if (tensorField.number === TENSOR_TYPE.elemType) dataType = tensorField.value;
            }
          }
        }
        valueTypes.set(name, dataType);
      }
    }
  }
  return { opsets, nodes, valueTypes };
}

function readNode(bytes: Uint8Array): ModelNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const intAttributes: Record<string, number> = {};
  let opType = '';
  let domain = '';
  let name = '';
  for (const field of fields(bytes)) {
    if (field.number === NODE.input) inputs.push(text(field));
    else if (field.number === NODE.output) outputs.push(text(field));
    else if (field.number === NODE.name) name = text(field);
    else if (field.number === NODE.opType) opType = text(field);
    else if (field.number === NODE.domain) domain = text(field);
    else if (field.number === NODE.attribute) {
      let attributeName = '';
      let value: number | null = null;
      for (const inner of fields(field.bytes)) {
        if (inner.number === ATTRIBUTE.name) attributeName = text(inner);
        if (inner.number === ATTRIBUTE.i && inner.wire === 0) value = inner.value;
      }
      if (value !== null) intAttributes[attributeName] = value;
    }
  }
  return { opType, domain: domain === 'ai.onnx' ? '' : domain, name, inputs, outputs, intAttributes };
}
