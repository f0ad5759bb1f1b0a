import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtobufWriter, encodeUtf8 } from './protobuf-writer.js';

const hex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');

function readVarint(bytes: Uint8Array, start: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  let position = start;
  for (;;) {
    const byte = bytes[position++]!;
    value |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if ((byte & 0x80) === 0) return { value, next: position };
  }
}

describe('ProtobufWriter', () => {
  it('writes the protobuf spec examples', () => {
    expect(hex(new ProtobufWriter().int(1, 150).finish())).toBe('08 96 01');
    expect(hex(new ProtobufWriter().string(2, 'testing').finish())).toBe('12 07 74 65 73 74 69 6e 67');
    expect(hex(new ProtobufWriter().message(3, (inner) => inner.int(1, 150)).finish())).toBe('1a 03 08 96 01');
    expect(hex(new ProtobufWriter().packedInts(4, [3, 270, 86942]).finish())).toBe('22 06 03 8e 02 9e a7 05');
    expect(hex(new ProtobufWriter().float(2, 1).finish())).toBe('15 00 00 80 3f');
  });

  it('encodes negative int64 as ten-byte two’s complement', () => {
    const bytes = new ProtobufWriter().varint(-1).finish();
    expect(bytes.length).toBe(10);
    expect(readVarint(bytes, 0).value).toBe(2n ** 64n - 1n);
  });

  it('round-trips any safe integer varint', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (value) => {
        const { value: decoded, next } = readVarint(new ProtobufWriter().varint(value).finish(), 0);
        return decoded === BigInt(value) && next > 0;
      }),
    );
  });

  it('keeps large payloads intact across nested messages', () => {
    const payload = Uint8Array.from({ length: 100_000 }, (_, index) => (index * 31) & 255);
    const bytes = new ProtobufWriter().message(1, (outer) => outer.message(2, (inner) => inner.bytes(3, payload))).finish();
    // outer tag, length (3 bytes) | inner tag, length (3 bytes) | bytes tag, length (3 bytes) | payload
    expect(bytes.length).toBe(100_000 + 12);
    expect(Buffer.compare(bytes.subarray(12), payload)).toBe(0);
  });

  it('encodes UTF-8 like the platform', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) =>
        hex(encodeUtf8(text)) === hex(new Uint8Array(Buffer.from(text, 'utf8'))),
      ),
    );
  });
});
