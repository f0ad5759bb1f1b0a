import { corruptGguf } from './gguf-errors.js';

const twoTo32 = 4_294_967_296;
// Largest high word of a uint64 whose value is still a safe integer (2^53 - 1).
const maxSafeHighWord = 0x1f_ffff;

/**
 * A little-endian reader over a byte array that checks every read against the end
 * before touching memory, so no RangeError can escape.
 */
export class ByteCursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  offset = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** Throws unless `byteCount` more bytes exist; `what` names the field in the error. */
  require(byteCount: number, what: string): void {
    if (byteCount > this.bytes.length - this.offset) {
      throw corruptGguf(`truncated while reading ${what}`, {
        offset: this.offset,
        expectedBytes: byteCount,
        availableBytes: this.bytes.length - this.offset,
      });
    }
  }

  u8(what: string): number {
    this.require(1, what);
    const value = this.view.getUint8(this.offset);
    this.offset += 1;
    return value;
  }

  u32(what: string): number {
    this.require(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  /** A uint64 as a number; values above Number.MAX_SAFE_INTEGER are corrupt here. */
  u64Safe(what: string): number {
    this.require(8, what);
    const low = this.view.getUint32(this.offset, true);
    const high = this.view.getUint32(this.offset + 4, true);
    if (high > maxSafeHighWord) {
      throw corruptGguf(`${what} exceeds Number.MAX_SAFE_INTEGER`, {
        offset: this.offset,
        value: ((BigInt(high) << 32n) | BigInt(low)).toString(),
      });
    }
    this.offset += 8;
    return high * twoTo32 + low;
  }

  /**
   * A uint64 element count or byte length that must be at most `limit` (bytes the file still
   * justifies); checked before anything is allocated.
   */
  length(what: string, limit: number, unitBytes: number): number {
    const start = this.offset;
    const value = this.u64Safe(what);
    if (value > limit) {
      throw corruptGguf(`${what} is larger than the file allows`, {
        offset: start,
        value,
        limit,
        minimumBytesPerUnit: unitBytes,
      });
    }
    return value;
  }

  /** A view of the next `byteCount` bytes (no copy). */
  take(byteCount: number, what: string): Uint8Array {
    this.require(byteCount, what);
    const slice = this.bytes.subarray(this.offset, this.offset + byteCount);
    this.offset += byteCount;
    return slice;
  }
}
