import { QaqError } from '@qaq/errors';
import { decodeUtf8 } from './utf8.js';

function truncated(what: string): QaqError {
  return new QaqError('invalid-model', `The model bytes are not valid protobuf: ${what}`, { details: { reason: what } });
}

/** One field of a protobuf message: its number, wire type, and the bounds of its payload. */
export interface ProtobufField {
  readonly number: number;
  readonly wireType: number;
  /** Varint payload (wire type 0) as a signed 64-bit value. */
  readonly varint: bigint;
  readonly start: number;
  readonly end: number;
}

/** Reads the fields of one protobuf message in `bytes[start, end)`; enough of the wire format for ONNX. */
export class ProtobufReader {
  #offset: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.#offset = start;
  }

  get done(): boolean {
    return this.#offset >= this.end;
  }

  #varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let count = 0; count < 10; count += 1) {
      if (this.#offset >= this.end) throw truncated('a varint runs past the end');
      const byte = this.bytes[this.#offset++] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw truncated('a varint is longer than 10 bytes');
  }

  next(): ProtobufField {
    const key = this.#varint();
    const wireType = Number(key & 7n);
    const number = Number(key >> 3n);
    if (number <= 0) throw truncated('field number 0');
    const start = this.#offset;
    let varint = 0n;
    if (wireType === 0) varint = this.#varint();
    else if (wireType === 1) this.#offset += 8;
    else if (wireType === 5) this.#offset += 4;
    else if (wireType === 2) {
      const length = Number(this.#varint());
      const bodyStart = this.#offset;
      this.#offset += length;
      if (length < 0 || this.#offset > this.end) throw truncated(`field ${number} runs past the end`);
      return { number, wireType, varint, start: bodyStart, end: this.#offset };
    } else throw truncated(`unsupported wire type ${wireType}`);
    if (this.#offset > this.end) throw truncated(`field ${number} runs past the end`);
    return { number, wireType, varint, start, end: this.#offset };
  }

  string(field: ProtobufField): string {
    return decodeUtf8(this.bytes.subarray(field.start, field.end));
  }

  message(field: ProtobufField): ProtobufReader {
    if (field.wireType !== 2) throw truncated(`field ${field.number} should be a message`);
    return new ProtobufReader(this.bytes, field.start, field.end);
  }

  /** A repeated varint field, packed (wire type 2) or not. */
  varints(field: ProtobufField): bigint[] {
    if (field.wireType === 0) return [field.varint];
    const inner = new ProtobufReader(this.bytes, field.start, field.end);
    const values: bigint[] = [];
    while (!inner.done) values.push(inner.#varint());
    return values;
  }

  /** Little-endian fixed-width values of a packed (or single) float or double field. */
  view(field: ProtobufField): DataView {
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + field.start, field.end - field.start);
  }
}
