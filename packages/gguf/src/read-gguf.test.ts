import { readFileSync } from 'node:fs';
import { isQaqError, type QaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { readFixtureBytes, readFixtureJson, realModelPath, realModels, type HeaderFixture } from './fixtures.test-utils.js';
import { GgufBuilder } from './gguf-builder.test-utils.js';
import { expectHeaderMatches } from './header-comparison.test-utils.js';
import { GgufTensorType, GgufValueType, findTensor, readGguf, tensorBytes } from './index.js';

function thrown(action: () => unknown): QaqError {
  try {
    action();
  } catch (error) {
    if (isQaqError(error)) return error;
    throw new Error(`expected a QaqError, got ${String(error)}`);
  }
  throw new Error('expected a QaqError, nothing was thrown');
}

function expectCorrupt(bytes: Uint8Array, messagePart: string, options = {}): QaqError {
  const error = thrown(() => readGguf(bytes, options));
  expect(error.code).toBe('corrupt-gguf');
  expect(error.message).toContain(messagePart);
  return error;
}

/** One F32 tensor of 8 elements after one metadata key: the smallest well-formed file with data. */
function validFile(): GgufBuilder {
  return new GgufBuilder()
    .header(1, 1)
    .keyString('general.architecture', 'llama')
    .tensorInfo('weight', [8], GgufTensorType.F32, 0)
    .align()
    .zeros(32);
}

describe('readGguf on gguf-py fixtures', () => {
  for (const model of realModels) {
    it(`matches gguf-py on the ${model.id} seed header (arrays cut to 64)`, () => {
      const file = readGguf(readFixtureBytes(`${model.id}-seed.gguf`), { headerOnly: true });
      expectHeaderMatches(file, readFixtureJson<HeaderFixture>(`${model.id}-header.json`), 64);
      expect(file.headerOnly).toBe(true);
    });
  }

  it('rejects a seed header without headerOnly, because its tensor data is absent', () => {
    expectCorrupt(readFixtureBytes('smollm2-seed.gguf'), 'beyond the end of the file');
  });

  it('reads the GGUFWriter synthetic file: 64-bit, bool, unicode values and tensors', () => {
    const bytes = readFixtureBytes('synthetic.gguf');
    const file = readGguf(bytes);
    expect(file.metadata.get('synthetic.uint64')).toBe(2n ** 40n + 3n);
    expect(file.metadata.get('synthetic.int64')).toBe(-(2n ** 40n));
    expect(file.metadata.get('synthetic.float64')).toBe(0.1);
    expect(file.metadata.get('synthetic.bool')).toBe(true);
    expect(file.metadata.get('synthetic.bools')).toEqual([true, false, true]);
    expect(file.metadata.get('synthetic.strings')).toEqual(['a', 'é', '🙂']);
    expect(file.metadata.get('synthetic.uint64s')).toEqual(new BigUint64Array([1n, 2n, 2n ** 40n]));
    expect(file.metadataTypes.get('synthetic.uint64')).toBe(GgufValueType.UINT64);
    expect(file.tensors.map((tensor) => [tensor.name, tensor.type, tensor.dimensions])).toEqual([
      ['synthetic.f16', GgufTensorType.F16, [256, 4]],
      ['synthetic.bf16', GgufTensorType.BF16, [256, 4]],
      ['synthetic.q4_0', GgufTensorType.Q4_0, [256, 4]],
      ['synthetic.q5_1', GgufTensorType.Q5_1, [256, 4]],
      ['synthetic.q5_k', GgufTensorType.Q5_K, [256, 4]],
      ['synthetic.q8_k', GgufTensorType.Q8_K, [256, 4]],
    ]);
    const q8k = findTensor(file, 'synthetic.q8_k');
    expect(q8k?.byteLength).toBe(4 * 292);
    expect(q8k && tensorBytes(file, bytes, q8k).byteOffset).toBe(bytes.byteOffset + (q8k?.byteOffset ?? 0));
  });
});

describe('readGguf on the real models', () => {
  for (const model of realModels) {
    const path = realModelPath(model.path);
    it.runIf(path !== undefined)(`matches gguf-py on every key and tensor of ${model.id}`, () => {
      const bytes = new Uint8Array(readFileSync(path as string));
      const file = readGguf(bytes);
      const fixture = readFixtureJson<HeaderFixture>(`${model.id}-header.json`);
      expectHeaderMatches(file, fixture);
      expect(file.dataOffset).toBe(fixture.dataOffset);
      expect(file.tensors.map((tensor) => tensor.byteOffset)).toEqual(fixture.tensors.map((tensor) => tensor.byteOffset));
    });
  }
});

describe('readGguf rejects corrupt and unsupported files with typed errors', () => {
  it('parses the minimal valid file', () => {
    const file = readGguf(validFile().build());
    expect(file.tensors[0]).toMatchObject({ name: 'weight', dimensions: [8], elementCount: 8, byteOffset: 128, byteLength: 32 });
    expect(file.dataOffset).toBe(128);
  });

  it('keeps a leading U+FEFF in strings: it is vocabulary text, not a byte-order mark', () => {
    const bytes = new GgufBuilder().header(0, 1).keyString('token', '\uFEFF//').build();
    expect(readGguf(bytes).metadata.get('token')).toBe('\uFEFF//');
  });

  it('bad magic, truncation, versions and byte order', () => {
    expectCorrupt(new Uint8Array([0x47, 0x47]), 'truncated while reading magic');
    expectCorrupt(new GgufBuilder().bytes([1, 2, 3, 4]).u32(3).build(), 'bad magic');
    const bigEndian = new GgufBuilder().bytes([0x47, 0x47, 0x55, 0x46, 0, 0, 0, 3]).build();
    expect(thrown(() => readGguf(bigEndian))).toMatchObject({ code: 'unsupported-gguf', details: { version: 3 } });
    expect(thrown(() => readGguf(new GgufBuilder().header(0, 0, 1).build())).code).toBe('unsupported-gguf');
    expect(thrown(() => readGguf(new GgufBuilder().header(0, 0, 4).build())).code).toBe('unsupported-gguf');
    expect(readGguf(new GgufBuilder().header(0, 0, 2).build()).version).toBe(2);
    const valid = validFile().build();
    for (let length = 0; length < valid.length; length++) {
      expect(thrown(() => readGguf(valid.subarray(0, length))).code).toBe('corrupt-gguf');
    }
  });

  it('counts and lengths larger than the file, checked before allocation', () => {
    expectCorrupt(new GgufBuilder().header(2n ** 40n, 0).build(), 'tensor count is larger than the file allows');
    expectCorrupt(new GgufBuilder().header(0, 2n ** 64n - 1n).build(), 'exceeds Number.MAX_SAFE_INTEGER');
    expectCorrupt(new GgufBuilder().header(0, 1).u64(2n ** 50n).zeros(16).build(), 'metadata key length');
    const hugeArray = new GgufBuilder().header(0, 1).string('k').u32(GgufValueType.ARRAY).u32(GgufValueType.FLOAT32);
    expectCorrupt(hugeArray.u64(1_000_000).zeros(64).build(), 'k array length is larger than the file allows');
    const longArray = new GgufBuilder().header(0, 1).string('k').u32(GgufValueType.ARRAY).u32(GgufValueType.UINT8).u64(9);
    expectCorrupt(longArray.zeros(9).build(), 'longer than maxMetadataArrayLength', { maxMetadataArrayLength: 8 });
    const nested = new GgufBuilder().header(0, 1).string('k').u32(GgufValueType.ARRAY).u32(GgufValueType.ARRAY).u64(1);
    expectCorrupt(nested.u32(GgufValueType.ARRAY).u64(1).u32(GgufValueType.UINT8).u64(1).u8(7).build(), 'nested deeper');
  });

  it('bad values: unknown value type, booleans, UTF-8, duplicates, alignment', () => {
    expectCorrupt(new GgufBuilder().header(0, 1).string('k').u32(13).zeros(8).build(), 'unknown value type 13');
    expectCorrupt(new GgufBuilder().header(0, 1).string('k').u32(GgufValueType.BOOL).u8(2).build(), 'neither 0 nor 1');
    const badUtf8 = new GgufBuilder().header(0, 1).u64(2).bytes([0xc3, 0x28]).u32(GgufValueType.UINT8).u8(0).build();
    expectCorrupt(badUtf8, 'not valid UTF-8');
    expect(readGguf(badUtf8, { invalidUtf8: 'replace' }).metadata.has('\ufffd(')).toBe(true);
    expectCorrupt(new GgufBuilder().header(0, 2).keyU32('a', 1).keyU32('a', 2).build(), 'duplicate metadata key a');
    expectCorrupt(new GgufBuilder().header(0, 1).keyU32('general.alignment', 24).build(), 'power of two');
    expectCorrupt(new GgufBuilder().header(0, 1).keyU32('general.alignment', 0).build(), 'power of two');
    expectCorrupt(new GgufBuilder().header(0, 1).keyString('general.alignment', '32').build(), 'must be a UINT32');
    expect(readGguf(new GgufBuilder().header(0, 1).keyU32('general.alignment', 64).build()).alignment).toBe(64);
  });

  it('bad tensor infos: dimensions, types, offsets, ranges, duplicates, overlap', () => {
    const file = (infos: (builder: GgufBuilder) => GgufBuilder, tensorCount = 1, dataBytes = 64): Uint8Array =>
      infos(new GgufBuilder().header(tensorCount, 0)).align().zeros(dataBytes).build();
    expectCorrupt(file((b) => b.tensorInfo('t', [1, 1, 1, 1, 1], 0, 0)), 'has 5 dimensions');
    expectCorrupt(file((b) => b.tensorInfo('t', [], 0, 0)), 'has 0 dimensions');
    expectCorrupt(file((b) => b.tensorInfo('t', [8, 0], 0, 0)), 'invalid dimension');
    expectCorrupt(file((b) => b.tensorInfo('t', [2 ** 27, 2 ** 27], 0, 0)), 'invalid dimension');
    expectCorrupt(file((b) => b.tensorInfo('t', [2n ** 60n], 0, 0)), 'exceeds Number.MAX_SAFE_INTEGER');
    const unknownType = thrown(() => readGguf(file((b) => b.tensorInfo('t', [8], 4, 0))));
    expect(unknownType).toMatchObject({ code: 'unsupported-gguf', details: { typeId: 4, name: 't' } });
    expect(thrown(() => readGguf(file((b) => b.tensorInfo('t', [8], 99, 0)))).code).toBe('unsupported-gguf');
    expectCorrupt(file((b) => b.tensorInfo('t', [16], GgufTensorType.Q4_0, 0)), 'not a multiple of the Q4_0 block size');
    expectCorrupt(file((b) => b.tensorInfo('t', [8], 0, 8)), 'misaligned');
    expectCorrupt(file((b) => b.tensorInfo('t', [8], 0, 64)), 'beyond the end of the file');
    expectCorrupt(file((b) => b.tensorInfo('t', [8], 0, 2n ** 52n)), 'beyond the end of the file');
    expectCorrupt(file((b) => b.tensorInfo('t', [8], 0, 0).tensorInfo('t', [8], 0, 32), 2), 'duplicate tensor name t');
    expectCorrupt(file((b) => b.tensorInfo('a', [16], 0, 0).tensorInfo('b', [8], 0, 32), 2, 96), 'overlap');
    const headerOnly = readGguf(file((b) => b.tensorInfo('t', [8], 0, 2n ** 40n)), { headerOnly: true });
    expect(headerOnly.tensors[0]?.byteOffset).toBe(2 ** 40 + headerOnly.dataOffset);
  });

  it('every error is a QaqError with details, and bad arguments are typed too', () => {
    const error = expectCorrupt(new GgufBuilder().header(0, 1).string('k').u32(13).zeros(8).build(), 'unknown');
    expect(error.details).toMatchObject({ offset: 33, valueType: 13 });
    expect(thrown(() => readGguf('not bytes' as unknown as Uint8Array)).code).toBe('invalid-argument');
    expect(thrown(() => readGguf(validFile().build(), { maxMetadataArrayLength: -1 })).code).toBe('invalid-argument');
  });
});

describe('tensorBytes and findTensor', () => {
  it('returns a view without copying and rejects foreign infos and short buffers', () => {
    const bytes = validFile().build();
    bytes.fill(7, 128);
    const file = readGguf(bytes);
    const view = tensorBytes(file, bytes, 'weight');
    expect(view.buffer).toBe(bytes.buffer);
    expect([...view]).toEqual(new Array(32).fill(7));
    expect(findTensor(file, 'missing')).toBeUndefined();
    expect(thrown(() => tensorBytes(file, bytes, 'missing')).code).toBe('missing-tensor');
    const other = readGguf(validFile().build());
    expect(thrown(() => tensorBytes(file, bytes, other.tensors[0] as never)).code).toBe('missing-tensor');
    expect(thrown(() => tensorBytes(file, bytes.subarray(0, 140), 'weight')).code).toBe('corrupt-gguf');
  });
});
