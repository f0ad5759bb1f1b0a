import { expect } from 'vitest';
import { GgufValueType, type GgufFile, type GgufValue } from './gguf-types.js';
import type { HeaderFixture, HeaderFixtureMetadata } from './fixtures.test-utils.js';

function element(value: GgufValue, index: number): unknown {
  const array = value as unknown as ArrayLike<unknown>;
  return array[index];
}

function expectScalar(actual: unknown, expected: unknown, type: number, key: string): void {
  if (type === GgufValueType.UINT64 || type === GgufValueType.INT64) {
    expect(actual, key).toBe(BigInt(expected as number | string));
  } else {
    expect(actual, key).toBe(expected);
  }
}

/**
 * Compares a parsed file with gguf-py's view of the same header. `arrayCap` is the array length the seed
 * headers were cut to (their arrays keep only the first elements); undefined for full files.
 */
export function expectHeaderMatches(file: GgufFile, fixture: HeaderFixture, arrayCap?: number): void {
  expect(file.version).toBe(fixture.version);
  expect(file.alignment).toBe(fixture.alignment);
  expect([...file.metadata.keys()]).toEqual(Object.keys(fixture.metadata));
  for (const [key, expected] of Object.entries(fixture.metadata) as [string, HeaderFixtureMetadata][]) {
    const actual = file.metadata.get(key) as GgufValue;
    expect(file.metadataTypes.get(key), key).toBe(expected.type);
    if (expected.type !== GgufValueType.ARRAY) {
      expectScalar(actual, expected.value, expected.type, key);
      continue;
    }
    const fullLength = expected.length as number;
    const length = arrayCap === undefined ? fullLength : Math.min(arrayCap, fullLength);
    expect((actual as unknown as ArrayLike<unknown>).length, key).toBe(length);
    (expected.first ?? []).forEach((value, index) =>
      expectScalar(element(actual, index), value, expected.elementType as number, `${key}[${index}]`),
    );
    if (arrayCap === undefined && fullLength > 0) {
      expectScalar(element(actual, fullLength - 1), expected.last, expected.elementType as number, `${key}[last]`);
    }
  }
  expect(file.tensors.map((tensor) => tensor.name)).toEqual(fixture.tensors.map((tensor) => tensor.name));
  file.tensors.forEach((tensor, index) => {
    const expected = fixture.tensors[index];
    expect({
      name: tensor.name,
      type: tensor.type,
      dimensions: tensor.dimensions,
      elementCount: tensor.elementCount,
      byteLength: tensor.byteLength,
      relativeOffset: tensor.byteOffset - file.dataOffset,
    }).toEqual({
      name: expected?.name,
      type: expected?.type,
      dimensions: expected?.dimensions,
      elementCount: expected?.elementCount,
      byteLength: expected?.byteLength,
      relativeOffset: (expected?.byteOffset ?? 0) - fixture.dataOffset,
    });
  });
}
