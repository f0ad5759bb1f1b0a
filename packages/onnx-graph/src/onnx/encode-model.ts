import { ProtobufWriter } from './protobuf-writer.js';
import { ONNX_DATA_TYPE, type Attribute, type ModelInit, type NodeInit, type TensorInit, type ValueInfo } from './onnx-types.js';

// Field numbers from the public onnx.proto (ONNX IR). Only the fields this package writes.
const MODEL = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8, metadataProps: 14 };
const OPSET = { domain: 1, version: 2 };
const STRING_ENTRY = { key: 1, value: 2 };
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 };
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 };
const ATTRIBUTE = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, type: 20 };
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 };
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 };
const VALUE_INFO = { name: 1, type: 2 };
const TYPE = { tensorType: 1 };
const TENSOR_TYPE = { elemType: 1, shape: 2 };
const SHAPE = { dim: 1 };
const DIMENSION = { value: 1, param: 2 };

function writeTensor(writer: ProtobufWriter, tensor: TensorInit): void {
  if (tensor.dims.length > 0) writer.packedInts(TENSOR.dims, tensor.dims);
  writer.int(TENSOR.dataType, ONNX_DATA_TYPE[tensor.elementType]);
  writer.string(TENSOR.name, tensor.name);
  writer.bytes(TENSOR.rawData, tensor.data);
}

function writeAttribute(writer: ProtobufWriter, name: string, value: Attribute): void {
  writer.string(ATTRIBUTE.name, name);
  switch (value.kind) {
    case 'int':
      writer.int(ATTRIBUTE.i, value.value);
      break;
    case 'float':
      writer.float(ATTRIBUTE.f, value.value);
      break;
    case 'string':
      writer.string(ATTRIBUTE.s, value.value);
      break;
    case 'ints':
      writer.packedInts(ATTRIBUTE.ints, value.value);
      break;
    case 'floats':
      writer.packedFloats(ATTRIBUTE.floats, value.value);
      break;
    case 'tensor':
      writer.message(ATTRIBUTE.t, (inner) => writeTensor(inner, value.value));
      break;
  }
  writer.int(ATTRIBUTE.type, ATTRIBUTE_TYPE[value.kind]);
}

function writeNode(writer: ProtobufWriter, node: NodeInit): void {
  for (const input of node.inputs) writer.string(NODE.input, input);
  for (const output of node.outputs) writer.string(NODE.output, output);
  writer.string(NODE.name, node.name);
  writer.string(NODE.opType, node.opType);
  for (const [name, value] of Object.entries(node.attributes)) {
    writer.message(NODE.attribute, (inner) => writeAttribute(inner, name, value));
  }
  if (node.domain !== '') writer.string(NODE.domain, node.domain);
}

function writeValueInfo(writer: ProtobufWriter, info: ValueInfo): void {
  writer.string(VALUE_INFO.name, info.name);
  writer.message(VALUE_INFO.type, (type) =>
    type.message(TYPE.tensorType, (tensorType) => {
      tensorType.int(TENSOR_TYPE.elemType, ONNX_DATA_TYPE[info.elementType]);
      tensorType.message(TENSOR_TYPE.shape, (shape) => {
        for (const dimension of info.shape) {
          shape.message(SHAPE.dim, (dim) => {
            if (typeof dimension === 'number') dim.int(DIMENSION.value, dimension);
            else dim.string(DIMENSION.param, dimension);
          });
        }
      });
    }),
  );
}

/** Serializes a model to ONNX ModelProto bytes. Weight bytes are copied exactly once. */
export function encodeModel(model: ModelInit): Uint8Array {
  const writer = new ProtobufWriter();
  writer.int(MODEL.irVersion, model.irVersion);
  writer.string(MODEL.producerName, model.producerName);
  writer.string(MODEL.producerVersion, model.producerVersion);
  writer.message(MODEL.graph, (graph) => {
    for (const node of model.nodes) graph.message(GRAPH.node, (inner) => writeNode(inner, node));
    graph.string(GRAPH.name, model.graphName);
    for (const tensor of model.initializers) graph.message(GRAPH.initializer, (inner) => writeTensor(inner, tensor));
    for (const input of model.inputs) graph.message(GRAPH.input, (inner) => writeValueInfo(inner, input));
    for (const output of model.outputs) graph.message(GRAPH.output, (inner) => writeValueInfo(inner, output));
  });
  for (const opset of model.opsetImports) {
    writer.message(MODEL.opsetImport, (inner) => {
      if (opset.domain !== '') inner.string(OPSET.domain, opset.domain);
      inner.int(OPSET.version, opset.version);
    });
  }
  for (const [key, value] of Object.entries(model.metadata)) {
    writer.message(MODEL.metadataProps, (inner) => inner.string(STRING_ENTRY.key, key).string(STRING_ENTRY.value, value));
  }
  return writer.finish();
}
