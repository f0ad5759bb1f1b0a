import { describe, expect, it } from 'vitest';
import { allocate, elementCount, isTensorDataType, matchesDataType } from './index.js';

describe('element types', () => {
  it('maps every element type to exactly its typed array', () => {
    expect(matchesDataType('float32', new Float32Array(2))).toBe(true);
    expect(matchesDataType('float32', new Float64Array(2))).toBe(false);
    expect(matchesDataType('int64', new BigInt64Array(1))).toBe(true);
    expect(matchesDataType('float16', new Uint16Array(1))).toBe(true);
    expect(allocate('uint8', 3)).toBeInstanceOf(Uint8Array);
    expect(isTensorDataType('int32')).toBe(true);
    expect(isTensorDataType('int4')).toBe(false);
  });

  it('counts elements and rejects impossible dimensions', () => {
    expect(elementCount([])).toBe(1);
    expect(elementCount([2, 0, 3])).toBe(0);
    expect(elementCount([2, 3, 4])).toBe(24);
    expect(elementCount([2, -1])).toBeUndefined();
    expect(elementCount([1.5])).toBeUndefined();
  });
});
