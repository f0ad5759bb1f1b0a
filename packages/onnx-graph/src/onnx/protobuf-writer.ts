/**
 * A minimal protobuf wire-format writer: just the field kinds ONNX models use (varint, length-delimited, packed
 * floats/int64s). Messages are built bottom-up: a nested message is encoded first and written as bytes.
 */
export class ProtobufWriter {
  private chunks: Uint8Array[] = [];
  private current = new Uint8Array(256);
  private position = 0;
  private flushedLength = 0;

  get length(): number {
    return this.flushedLength + this.position;
  }

  private ensure(extra: number): void {
    if (this.position + extra <= this.current.length) return;
    this.flush();
    if (extra > this.current.length) this.current = new Uint8Array(Math.max(extra, 256));
  }

  private flush(): void {
    if (this.position === 0) return;
    this.chunks.push(this.current.subarray(0, this.position));
    this.flushedLength += this.position;
    this.current = new Uint8Array(Math.max(256, this.current.length));
    this.position = 0;
  }

  /** Unsigned or non-negative varint; negative int64 values use the 10-byte two's-complement form. */
  varint(value: number | bigint): this {
    let big = BigInt(value);
    if (big < 0n) big = BigInt.asUintN(64, big);
    this.ensure(10);
    while (big >= 0x80n) {
      this.current[this.position++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.current[this.position++] = Number(big);
    return this;
  }

  private tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  int(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.current.buffer, this.current.byteOffset + this.position, 4).setFloat32(0, value, true);
    this.position += 4;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2).varint(value.length);
    if (value.length > 4096) {
      // Large payloads (weights) are kept by reference instead of copied into the scratch buffer.
      this.flush();
      this.chunks.push(value);
      this.flushedLength += value.length;
    } else {
      this.ensure(value.length);
      this.current.set(value, this.position);
      this.position += value.length;
    }
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, encodeUtf8(value));
  }

  /** A nested message; its chunks are adopted by reference so weights are copied once, in `finish`. */
  message(field: number, build: (writer: ProtobufWriter) => void): this {
    const inner = new ProtobufWriter();
    build(inner);
    inner.flush();
    this.tag(field, 2).varint(inner.length);
    this.flush();
    for (const chunk of inner.chunks) this.chunks.push(chunk);
    this.flushedLength += inner.flushedLength;
    return this;
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtobufWriter();
    for (const value of values) inner.varint(value);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): this {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((value, index) => view.setFloat32(index * 4, value, true));
    return this.bytes(field, data);
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1 && this.chunks[0] !== undefined) return this.chunks[0];
    const out = new Uint8Array(this.flushedLength);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** UTF-8 bytes of a string (TextEncoder is not part of the ES library this pure package compiles against). */
export function encodeUtf8(value: string): Uint8Array {
  const out: number[] = [];
  for (const character of value) {
    const code = character.codePointAt(0) ?? 0;
    if (code < 0x80) out.push(code);
    else if (code < 0x800) out.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else out.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return Uint8Array.from(out);
}
