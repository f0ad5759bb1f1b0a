import { QaqError } from '@qaq/errors';

/** One node of an ONNX graph, as far as placement needs it. */
export interface GraphNode {
  readonly opType: string;
  readonly name: string;
}

const decoder = new TextDecoder();

/** A protobuf reader over just what this file needs: varints, and skipping or slicing fields. */
class ProtobufCursor {
  offset: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.offset = start;
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.offset >= this.end) throw new QaqError('invalid-model', 'Truncated protobuf varint', { details: {} });
      const byte = this.bytes[this.offset++] ?? 0;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
  }

  /** Reads a field key; returns the field number, the wire type and, for length-delimited fields, the body bounds. */
  field(): { number: number; wireType: number; start: number; end: number } {
    const key = this.varint();
    const wireType = key & 7;
    const number = Math.floor(key / 8);
    const start = this.offset;
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.offset += 8;
    else if (wireType === 5) this.offset += 4;
    else if (wireType === 2) {
      const length = this.varint();
      const bodyStart = this.offset;
      this.offset += length;
      if (this.offset > this.end) throw new QaqError('invalid-model', 'Truncated protobuf field', { details: { number } });
      return { number, wireType, start: bodyStart, end: this.offset };
    } else throw new QaqError('invalid-model', `Unsupported protobuf wire type ${wireType}`, { details: { number } });
    return { number, wireType, start, end: this.offset };
  }
}

/** The top-level graph nodes of an ONNX model (ModelProto.graph = 7, GraphProto.node = 1, name = 3, op_type = 4). */
export function readGraphNodes(model: Uint8Array): GraphNode[] {
  const nodes: GraphNode[] = [];
  const modelCursor = new ProtobufCursor(model);
  while (!modelCursor.done) {
    const graphField = modelCursor.field();
    if (graphField.number !== 7 || graphField.wireType !== 2) continue;
    const graphCursor = new ProtobufCursor(model, graphField.start, graphField.end);
    while (!graphCursor.done) {
      const nodeField = graphCursor.field();
      if (nodeField.number !== 1 || nodeField.wireType !== 2) continue;
      const nodeCursor = new ProtobufCursor(model, nodeField.start, nodeField.end);
      let name = '';
      let opType = '';
      while (!nodeCursor.done) {
        const part = nodeCursor.field();
        if (part.wireType !== 2) continue;
        if (part.number === 3) name = decoder.decode(model.subarray(part.start, part.end));
        if (part.number === 4) opType = decoder.decode(model.subarray(part.start, part.end));
      }
      nodes.push({ opType, name });
    }
  }
  return nodes;
}
