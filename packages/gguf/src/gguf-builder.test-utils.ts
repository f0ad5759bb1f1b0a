/** A byte-level GGUF writer for hand-crafted (valid and corrupt) test files. */
export class GgufBuilder {
  private readonly chunks: number[] = [];

  get length(): number {
    return this.chunks.length;
  }

  bytes(values: ArrayLike<number>): this {
    for (let index = 0; index < values.length; index++) this.chunks.push((values[index] as number) & 0xff);
    return this;
  }

  u8(value: number): this {
    return this.bytes([value]);
  }

  u32(value: number): this {
    return this.bytes([value, value >>> 8, value >>> 16, value >>> 24]);
  }

  u64(value: number | bigint): this {
    const big = BigInt.asUintN(64, BigInt(value));
    for (let shift = 0n; shift < 64n; shift += 8n) this.chunks.push(Number((big >> shift) & 0xffn));
    return this;
  }

  f32(value: number): this {
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, value, true);
    return this.bytes(new Uint8Array(view.buffer));
  }

  string(value: string): this {
    const encoded = new TextEncoder().encode(value);
    return this.u64(encoded.length).bytes(encoded);
  }

  header(tensorCount: number | bigint, keyValueCount: number | bigint, version = 3): this {
    return this.bytes([0x47, 0x47, 0x55, 0x46]).u32(version).u64(tensorCount).u64(keyValueCount);
  }

  /** A metadata key with a UINT32 value. */
  keyU32(key: string, value: number): this {
    return this.string(key).u32(4).u32(value);
  }

  keyString(key: string, value: string): this {
    return this.string(key).u32(8).string(value);
  }

  tensorInfo(name: string, dimensions: readonly (number | bigint)[], type: number, offset: number | bigint): this {
    this.string(name).u32(dimensions.length);
    for (const dimension of dimensions) this.u64(dimension);
    return this.u32(type).u64(offset);
  }

  /** Zero bytes up to the next multiple of `alignment`. */
  align(alignment = 32): this {
    while (this.chunks.length % alignment !== 0) this.chunks.push(0);
    return this;
  }

  zeros(count: number): this {
    for (let index = 0; index < count; index++) this.chunks.push(0);
    return this;
  }

  build(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}
