import { QaqError } from '@qaq/errors';

/** Little-endian writer over a buffer of known size. */
export class ByteWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  offset = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(value: number): void {
    this.view.setUint8(this.offset, value);
    this.offset += 1;
  }

  u16(value: number): void {
    this.view.setUint16(this.offset, value, true);
    this.offset += 2;
  }

  u32(value: number): void {
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
  }

  raw(source: Uint8Array): void {
    this.bytes.set(source, this.offset);
    this.offset += source.length;
  }

  u16Array(source: ArrayLike<number>, start: number, count: number): void {
    for (let index = 0; index < count; index += 1) this.u16(source[start + index] as number);
  }
}

/** Little-endian reader; any read past the end is QaqError('corrupt-cache'). */
export class ByteReader {
  private readonly view: DataView;
  offset: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = start;
  }

  private need(count: number): void {
    if (this.offset + count > this.end) {
      throw new QaqError('corrupt-cache', 'serialized cache is truncated', { details: { offset: this.offset, need: count, end: this.end } });
    }
  }

  u8(): number {
    this.need(1);
    const value = this.view.getUint8(this.offset);
    this.offset += 1;
    return value;
  }

  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  raw(count: number): Uint8Array {
    this.need(count);
    const slice = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }
}
