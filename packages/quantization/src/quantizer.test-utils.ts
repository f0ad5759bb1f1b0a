import fc from 'fast-check';

/** Shared generators for the quantizer property tests: values across magnitudes, groups, strides, exclusions. */

const f32 = Math.fround;

export const valueArbitrary: fc.Arbitrary<number> = fc.oneof(
  fc.float({ min: -65504, max: 65504, noNaN: true }),
  fc.float({ min: -1, max: 1, noNaN: true }),
  fc.float({ min: f32(-1e-5), max: f32(1e-5), noNaN: true }),
  fc.integer({ min: -4096, max: 4096 }).map((k) => k / 64),
);

/** A group as values around a centre: narrow ranges far from zero (range ≪ magnitude). */
const offsetGroupArbitrary = (length: number): fc.Arbitrary<number[]> =>
  fc
    .tuple(
      fc.float({ min: -60000, max: 60000, noNaN: true }),
      fc.float({ min: 0, max: 4, noNaN: true }),
      fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: length, maxLength: length }),
    )
    .map(([centre, spread, noise]) => noise.map((n) => f32(centre + spread * n)));

export interface GroupCase {
  readonly bits: number;
  readonly values: readonly number[];
  readonly stride: number;
  readonly offset: number;
  readonly excluded: readonly boolean[] | null;
}

export const groupCaseArbitrary: fc.Arbitrary<GroupCase> = fc
  .record({
    bits: fc.integer({ min: 1, max: 8 }),
    length: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 512 })),
    stride: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 4 })),
    offset: fc.integer({ min: 0, max: 5 }),
    withExclusions: fc.boolean(),
    narrow: fc.integer({ min: 0, max: 4 }),
  })
  .chain(({ bits, length, stride, offset, withExclusions, narrow }) =>
    fc.record({
      bits: fc.constant(bits),
      values:
        narrow === 0
          ? offsetGroupArbitrary(length)
          : fc.array(valueArbitrary, { minLength: length, maxLength: length }),
      stride: fc.constant(stride),
      offset: fc.constant(offset),
      excluded: withExclusions
        ? fc.array(fc.boolean(), { minLength: length, maxLength: length })
        : fc.constant(null),
    }),
  );

/** Lays a case out in a strided Float32Array filled with a sentinel elsewhere. */
export function stridedSource(testCase: GroupCase, sentinel = 12345): Float32Array {
  const source = new Float32Array(testCase.offset + testCase.values.length * testCase.stride + 1).fill(sentinel);
  testCase.values.forEach((value, index) => {
    source[testCase.offset + index * testCase.stride] = value;
  });
  return source;
}

export function excludedMask(testCase: GroupCase): Uint8Array | null {
  return testCase.excluded === null ? null : Uint8Array.from(testCase.excluded, (flag) => (flag ? 1 : 0));
}
