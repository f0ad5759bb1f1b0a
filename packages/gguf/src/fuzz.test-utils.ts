import { isQaqError } from '@qaq/errors';
import { GgufValueType, type GgufFile, type GgufValue } from './gguf-types.js';
import { readGguf } from './read-gguf.js';

/** A small deterministic PRNG (mulberry32) so every fuzz case can be replayed from its index. */
export function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface FieldMap {
  /** Offsets of uint64 fields: counts, string lengths, array lengths, dimensions, tensor offsets. */
  readonly u64: readonly number[];
  /** Offsets of uint32 fields: value types, element types, dimension counts, tensor types. */
  readonly u32: readonly number[];
  /** Offsets where a region starts: each key/value, each tensor info, the end of the infos. */
  readonly boundaries: readonly number[];
}

/** Walks a well-formed GGUF (little-endian, v2/v3) and records where its fields are. */
export function mapFields(bytes: Uint8Array): FieldMap {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64: number[] = [];
  const u32: number[] = [];
  const boundaries: number[] = [0, 4, 8];
  let offset = 8;
  const readU64 = (): number => {
    u64.push(offset);
    const value = Number(view.getBigUint64(offset, true));
    offset += 8;
    return value;
  };
  const readU32 = (): number => {
    u32.push(offset);
    const value = view.getUint32(offset, true);
    offset += 4;
    return value;
  };
  const skipValue = (type: number): void => {
    const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    if (type === GgufValueType.STRING) {
      const length = readU64();
      offset += length;
    }
    else if (type === GgufValueType.ARRAY) {
      const elementType = readU32();
      const count = readU64();
      for (let index = 0; index < count; index++) skipValue(elementType);
    } else offset += sizes[type] ?? 0;
  };
  const tensorCount = readU64();
  const keyValueCount = readU64();
  for (let index = 0; index < keyValueCount; index++) {
    boundaries.push(offset);
    const keyLength = readU64();
    offset += keyLength;
    skipValue(readU32());
  }
  for (let index = 0; index < tensorCount; index++) {
    boundaries.push(offset);
    const nameLength = readU64();
    offset += nameLength;
    const dimensionCount = readU32();
    for (let axis = 0; axis < dimensionCount; axis++) readU64();
    readU32();
    readU64();
  }
  boundaries.push(offset);
  return { u64, u32, boundaries };
}

const hugeValues = [
  2n ** 64n - 1n,
  2n ** 63n,
  2n ** 53n,
  2n ** 53n - 1n,
  2n ** 32n,
  2n ** 32n - 1n,
  2n ** 31n,
  2n ** 40n,
  0n,
  1n,
];
const interestingU32 = [0, 1, 4, 5, 8, 9, 12, 13, 30, 31, 40, 0x7fff_ffff, 0xffff_ffff];

export interface FuzzSeed {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly fields: FieldMap;
  /** Seeds without tensor data are parsed with headerOnly most of the time. */
  readonly hasData: boolean;
}

export function makeSeed(name: string, bytes: Uint8Array, hasData: boolean): FuzzSeed {
  return { name, bytes, fields: mapFields(bytes), hasData };
}

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T;
}

/** Builds fuzz case `index` from a seed: 1..3 mutations of the header, sometimes a truncation. */
export function mutate(seed: FuzzSeed, random: () => number): { bytes: Uint8Array; description: string } {
  const dataLength = seed.hasData ? 0 : Math.floor(random() * 4096);
  let bytes = new Uint8Array(seed.bytes.length + dataLength);
  bytes.set(seed.bytes);
  for (let index = seed.bytes.length; index < bytes.length; index++) bytes[index] = Math.floor(random() * 256);
  const view = new DataView(bytes.buffer);
  const steps: string[] = [];
  const headerEnd = seed.fields.boundaries[seed.fields.boundaries.length - 1] as number;
  const mutationCount = 1 + Math.floor(random() * 3);
  for (let step = 0; step < mutationCount; step++) {
    const kind = Math.floor(random() * 6);
    if (kind === 0) {
      const flips = 1 + Math.floor(random() * 8);
      for (let flip = 0; flip < flips; flip++) {
        const at = Math.floor(random() * headerEnd);
        bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(random() * 8));
      }
      steps.push(`flip ${flips} bits`);
    } else if (kind === 1) {
      const count = 1 + Math.floor(random() * 16);
      const at = Math.floor(random() * headerEnd);
      for (let index = at; index < Math.min(at + count, bytes.length); index++) bytes[index] = Math.floor(random() * 256);
      steps.push(`random bytes at ${at}`);
    } else if (kind === 2 || kind === 3) {
      const at = pick(random, seed.fields.u64);
      const original = view.getBigUint64(at, true);
      const value = random() < 0.7 ? pick(random, hugeValues) : random() < 0.5 ? original + 1n : original * 2n;
      view.setBigUint64(at, BigInt.asUintN(64, value), true);
      steps.push(`u64 at ${at} = ${value}`);
    } else if (kind === 4) {
      const at = pick(random, seed.fields.u32);
      const value = random() < 0.7 ? pick(random, interestingU32) : Math.floor(random() * 2 ** 32);
      view.setUint32(at, value, true);
      steps.push(`u32 at ${at} = ${value}`);
    } else {
      // Copy one region over the next: duplicate keys or tensor names, shifted fields.
      const boundaries = seed.fields.boundaries;
      const region = Math.floor(random() * (boundaries.length - 1));
      const start = boundaries[region] as number;
      const end = Math.min(boundaries[region + 1] as number, start + 256);
      bytes.copyWithin(end, start, end);
      steps.push(`copy region ${start}..${end}`);
    }
  }
  if (random() < 0.35) {
    const cut =
      random() < 0.5
        ? Math.max(0, pick(random, seed.fields.boundaries) + Math.floor(random() * 17) - 8)
        : Math.floor(random() * bytes.length);
    bytes = bytes.subarray(0, Math.min(cut, bytes.length));
    steps.push(`truncate at ${cut}`);
  }
  return { bytes, description: steps.join('; ') };
}

/** A generous estimate of the memory a parse result retains, to check the allocation bound. */
export function retainedBytes(file: GgufFile): number {
  let total = 0;
  const measure = (value: GgufValue): void => {
    if (typeof value === 'string') total += 2 * value.length + 16;
    else if (ArrayBuffer.isView(value)) total += value.byteLength + 64;
    else if (Array.isArray(value)) {
      total += 8 * value.length + 16;
      for (const element of value as readonly GgufValue[]) measure(element);
    } else total += 16;
  };
  for (const [key, value] of file.metadata) {
    total += 2 * key.length + 32;
    measure(value);
  }
  for (const tensor of file.tensors) total += 2 * tensor.name.length + 128;
  return total;
}

export interface FuzzReport {
  readonly cases: number;
  readonly parsed: number;
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly failures: readonly string[];
  readonly slowestCaseMs: number;
  readonly largestRetainedRatio: number;
}

/**
 * Runs `cases` fuzz cases over the seeds. A case fails when readGguf throws anything but a QaqError
 * 'corrupt-gguf' / 'unsupported-gguf', or returns a file that breaks its own invariants.
 */
export function runFuzz(seeds: readonly FuzzSeed[], cases: number, seedValue: number): FuzzReport {
  const random = makeRandom(seedValue);
  const errorsByCode: Record<string, number> = {};
  const failures: string[] = [];
  let parsed = 0;
  let slowestCaseMs = 0;
  let largestRetainedRatio = 0;
  for (let index = 0; index < cases; index++) {
    const seed = seeds[index % seeds.length] as FuzzSeed;
    const { bytes, description } = mutate(seed, random);
    const headerOnly = seed.hasData ? random() < 0.2 : random() < 0.85;
    const started = performance.now();
    try {
      const file = readGguf(bytes, { headerOnly });
      parsed++;
      const problem = invariantProblem(file, bytes.length);
      if (problem !== undefined) failures.push(`case ${index} (${seed.name}: ${description}): ${problem}`);
      largestRetainedRatio = Math.max(largestRetainedRatio, retainedBytes(file) / Math.max(bytes.length, 1));
    } catch (error) {
      if (isQaqError(error, 'corrupt-gguf') || isQaqError(error, 'unsupported-gguf')) {
        errorsByCode[error.code] = (errorsByCode[error.code] ?? 0) + 1;
      } else {
        failures.push(`case ${index} (${seed.name}: ${description}): ${String(error)}`);
      }
    }
    slowestCaseMs = Math.max(slowestCaseMs, performance.now() - started);
  }
  return { cases, parsed, errorsByCode, failures, slowestCaseMs, largestRetainedRatio };
}

function invariantProblem(file: GgufFile, length: number): string | undefined {
  let previousEnd = file.dataOffset;
  const sorted = [...file.tensors].sort((left, right) => left.byteOffset - right.byteOffset);
  for (const tensor of sorted) {
    if (tensor.byteOffset < previousEnd) return `tensor ${tensor.name} overlaps`;
    previousEnd = tensor.byteOffset + tensor.byteLength;
    if (!file.headerOnly && previousEnd > length) return `tensor ${tensor.name} beyond the end`;
    if (tensor.dimensions.length < 1 || tensor.dimensions.length > 4) return `tensor ${tensor.name} dimensions`;
    if (tensor.dimensions.reduce((product, dimension) => product * dimension, 1) !== tensor.elementCount) {
      return `tensor ${tensor.name} element count`;
    }
  }
  if (file.dataOffset % file.alignment !== 0) return 'misaligned data offset';
  return undefined;
}
