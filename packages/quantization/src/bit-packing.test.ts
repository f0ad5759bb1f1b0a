import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packCodes, packedByteLength, unpackCodes } from './bit-packing.js';

/** Reference: write the LSB-first bit stream one bit at a time. */
function referencePack(codes: ArrayLike<number>, bits: number): Uint8Array {
  const bytes = new Uint8Array(Math.ceil((codes.length * bits) / 8));
  for (let index = 0; index < codes.length; index += 1) {
    for (let bit = 0; bit < bits; bit += 1) {
      if (((codes[index] as number) >> bit) & 1) {
        const streamBit = index * bits + bit;
        bytes[streamBit >> 3] = (bytes[streamBit >> 3] as number) | (1 << (streamBit & 7));
      }
    }
  }
  return bytes;
}

const bitWidthArbitrary = fc.integer({ min: 1, max: 8 });
const caseArbitrary = bitWidthArbitrary.chain((bits) =>
  fc.record({
    bits: fc.constant(bits),
    codes: fc.array(fc.integer({ min: 0, max: (1 << bits) - 1 }), { minLength: 0, maxLength: 300 }),
    codesOffset: fc.integer({ min: 0, max: 9 }),
    byteOffset: fc.integer({ min: 0, max: 9 }),
    guard: fc.integer({ min: 0, max: 255 }),
  }),
);

describe('bit packing', () => {
  it('computes ⌈count·bits/8⌉ bytes', () => {
    expect(packedByteLength(0, 3)).toBe(0);
    expect(packedByteLength(1, 3)).toBe(1);
    expect(packedByteLength(8, 3)).toBe(3);
    expect(packedByteLength(9, 3)).toBe(4);
    expect(packedByteLength(64, 4)).toBe(32);
    expect(packedByteLength(65, 7)).toBe(57);
    expect(() => packedByteLength(4, 16)).toThrow(expect.objectContaining({ code: 'invalid-bit-width' }));
    expect(() => packedByteLength(-1, 4)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
  });

  it('lays codes out as an LSB-first bit stream (3-bit codes straddle bytes)', () => {
    const codes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 0]);
    const bytes = new Uint8Array(3);
    packCodes(codes, 0, 8, 3, bytes, 0);
    // Stream: 001 010 011 100 101 110 111 000, lowest bits first.
    expect(Array.from(bytes)).toEqual([0b11010001, 0b01011000, 0b00011111]);
    const single = new Uint8Array(1);
    packCodes(new Uint8Array([1, 0, 1]), 0, 3, 1, single, 0);
    expect(single[0]).toBe(0b101);
  });

  it('matches the bit-by-bit reference and round-trips for every width, odd counts and odd offsets', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ bits, codes, codesOffset, byteOffset, guard }) => {
        const count = codes.length;
        const source = new Uint8Array(codesOffset + count + 3).fill(0xff);
        source.set(codes, codesOffset);
        const byteLength = packedByteLength(count, bits);
        const packed = new Uint8Array(byteOffset + byteLength + 2).fill(guard);
        packCodes(source, codesOffset, count, bits, packed, byteOffset);
        expect(packed.subarray(byteOffset, byteOffset + byteLength)).toEqual(referencePack(codes, bits));
        // Bytes outside the run are untouched.
        for (let index = 0; index < byteOffset; index += 1) expect(packed[index]).toBe(guard);
        expect(packed[byteOffset + byteLength]).toBe(guard);
        const unpacked = new Uint8Array(codesOffset + count + 2).fill(0xee);
        unpackCodes(packed, byteOffset, count, bits, unpacked, codesOffset);
        expect(Array.from(unpacked.subarray(codesOffset, codesOffset + count))).toEqual(codes);
        for (let index = 0; index < codesOffset; index += 1) expect(unpacked[index]).toBe(0xee);
        expect(unpacked[codesOffset + count]).toBe(0xee);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps only the low bits of each code and zeroes the unused bits of the last byte', () => {
    const packed = new Uint8Array([0xff, 0xff]);
    packCodes(new Uint8Array([0xff, 0xff, 0xff]), 0, 3, 3, packed, 0);
    expect(Array.from(packed)).toEqual([0xff, 0b1]);
  });

  it('rejects bad widths and ranges before writing', () => {
    const target = new Uint8Array([9, 9]);
    const codes = new Uint8Array(5);
    for (const bits of [0, 9, 16, 2.5, Number.NaN]) {
      expect(() => packCodes(codes, 0, 1, bits, target, 0)).toThrow(expect.objectContaining({ code: 'invalid-bit-width' }));
    }
    expect(() => packCodes(codes, 0, 5, 4, target, 0)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
    expect(() => packCodes(codes, 1, 5, 1, target, 0)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
    expect(() => packCodes(codes, 0, 4, 4, target, -1)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
    expect(Array.from(target)).toEqual([9, 9]);
    const output = new Uint8Array(3).fill(4);
    expect(() => unpackCodes(target, 0, 5, 4, output, 0)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
    expect(() => unpackCodes(target, 1, 3, 4, output, 0)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
    expect(Array.from(output)).toEqual([4, 4, 4]);
  });
});
