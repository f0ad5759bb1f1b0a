import { describe, expect, it } from 'vitest';
import { readFixtureJson } from './fixtures.test-utils.js';
import { GgufTensorType, isGgufTensorType, tensorTypeInfoOrUndefined, tensorTypeName } from './index.js';

interface QuantSize {
  readonly id: number;
  readonly blockElementCount: number;
  readonly blockByteLength: number;
}

describe('tensor types', () => {
  it('match gguf-py GGML_QUANT_SIZES in ids, names and block geometry, both ways', () => {
    const reference = readFixtureJson<Record<string, QuantSize>>('tensor-types.json');
    const ours = Object.fromEntries(
      Object.entries(GgufTensorType).map(([name, id]) => {
        const info = tensorTypeInfoOrUndefined(id);
        return [name, { id, blockElementCount: info?.blockElementCount, blockByteLength: info?.blockByteLength }];
      }),
    );
    expect(ours).toEqual(reference);
  });

  it('names unknown ids', () => {
    expect(tensorTypeName(GgufTensorType.Q6_K)).toBe('Q6_K');
    expect(tensorTypeName(4)).toBe('unknown(4)');
    expect(isGgufTensorType(4)).toBe(false);
    expect(isGgufTensorType(14)).toBe(true);
    expect(tensorTypeInfoOrUndefined(-1)).toBeUndefined();
  });
});
