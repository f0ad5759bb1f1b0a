import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packedByteLength } from './bit-packing.js';
import { quantizeAndPackGroup } from './quantize-and-pack.js';
import { unpackAndDequantizeGroup } from './unpack-and-dequantize.js';
import { unpackAndDequantizeGroups } from './unpack-and-dequantize-groups.js';

describe('unpackAndDequantizeGroups', () => {
  it('matches unpackAndDequantizeGroup group by group, at any offsets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 0, max: 3 }),
        (bits, groupCount, groupLength, offset) => {
          const source = Float32Array.from({ length: groupCount * groupLength }, (_, index) => Math.sin(index * 1.7) * (1 + (index % 5)));
          const groupBytes = packedByteLength(groupLength, bits);
          const packed = new Uint8Array(offset + groupCount * groupBytes);
          const parameters = new Float32Array(offset + 2 * groupCount);
          for (let group = 0; group < groupCount; group += 1) {
            quantizeAndPackGroup(source, group * groupLength, groupLength, 1, bits, packed, offset + group * groupBytes, parameters, offset + 2 * group);
          }
          const expected = new Float32Array(offset + groupCount * groupLength + 1).fill(-3);
          for (let group = 0; group < groupCount; group += 1) {
            unpackAndDequantizeGroup(
              packed,
              offset + group * groupBytes,
              groupLength,
              bits,
              parameters[offset + 2 * group] as number,
              parameters[offset + 2 * group + 1] as number,
              expected,
              offset + group * groupLength,
            );
          }
          const batched = new Float32Array(offset + groupCount * groupLength + 1).fill(-3);
          unpackAndDequantizeGroups(packed, offset, groupCount, groupLength, bits, parameters, offset, batched, offset);
          expect(batched).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('checks every group before writing anything', () => {
    const packed = new Uint8Array(8);
    const target = new Float32Array(8).fill(5);
    const parameters = new Float32Array([0, 1, 0, 1, 0, 0, 0, 1]); // group 2 has step 0
    expect(() => unpackAndDequantizeGroups(packed, 0, 4, 2, 4, parameters, 0, target, 0)).toThrow(
      expect.objectContaining({ code: 'invalid-parameters' }),
    );
    expect(() => unpackAndDequantizeGroups(packed, 0, 4, 3, 4, new Float32Array(8).fill(1), 0, target, 0)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    expect(() => unpackAndDequantizeGroups(packed, 0, 5, 2, 4, new Float32Array(10).fill(1), 0, target, 0)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    expect(() => unpackAndDequantizeGroups(packed, 0, 2, 2, 16, parameters, 0, target, 0)).toThrow(
      expect.objectContaining({ code: 'invalid-bit-width' }),
    );
    expect(() => unpackAndDequantizeGroups(packed, 0, 2, 0, 4, parameters, 0, target, 0)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    expect(Array.from(target)).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
  });
});
