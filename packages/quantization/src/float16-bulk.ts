import { QaqError } from '@qaq/errors';
import { float16BitsToFloat32 } from './float16.js';
import { assertRange } from './validation.js';

/**
 * Bulk fp16 conversion. When the runtime has `Float16Array` (Node ≥ 24, recent browsers) encoding runs natively
 * through a Float16Array view over the same bytes; otherwise (and for decoding, where a table is faster) a
 * portable Uint16Array path runs. Both paths give the same bits for every non-NaN value (NaN payloads are
 * implementation-defined natively).
 */

/** The part of a native Float16Array this module uses. */
export interface Float16ArrayLike {
  readonly length: number;
  set(source: ArrayLike<number>, offset?: number): void;
  [index: number]: number;
}

/** Constructor shape of `globalThis.Float16Array`, which the ES2022 lib does not declare. */
export type Float16ArrayConstructorLike = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Float16ArrayLike;

function findNativeFloat16Array(): Float16ArrayConstructorLike | undefined {
  const candidate: unknown = (globalThis as Record<string, unknown>)['Float16Array'];
  return typeof candidate === 'function' ? (candidate as Float16ArrayConstructorLike) : undefined;
}

const nativeFloat16Array = findNativeFloat16Array();

/** True when `globalThis.Float16Array` exists; bulk conversions then use it. */
export const nativeFloat16ArrayAvailable: boolean = nativeFloat16Array !== undefined;

/** Which implementation a bulk conversion uses; 'auto' picks native when available. */
export type Float16Implementation = 'auto' | 'native' | 'portable';

let decodeTable: Float32Array | undefined;

/** All 65,536 fp16 values as float32, built on first use (256 KiB): decoding is then one load per element. */
function float16DecodeTable(): Float32Array {
  if (decodeTable === undefined) {
    const table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits += 1) {
      table[bits] = float16BitsToFloat32(bits);
    }
    decodeTable = table;
  }
  return decodeTable;
}

/** The native constructor to use, or undefined for the portable path. Throws if 'native' is unavailable. */
function resolveNative(implementation: Float16Implementation): Float16ArrayConstructorLike | undefined {
  if (implementation === 'portable') {
    return undefined;
  }
  if (implementation === 'native' && nativeFloat16Array === undefined) {
    throw new QaqError('float16-array-unavailable', 'this runtime has no globalThis.Float16Array', {
      details: { implementation },
    });
  }
  return nativeFloat16Array;
}

/** 'auto' encodes natively from this many elements on. */
const NATIVE_ENCODE_MINIMUM_COUNT = 1024;

const scratchFloat32 = new Float32Array(1);
// Int32 and Float32 views of the same bytes share the platform's byte order.
const scratchBits = new Int32Array(scratchFloat32.buffer);

/**
 * fp16 bits of one float32 given by its bit pattern, round to nearest even. The input is exactly a float32, so
 * rounding from its bits is exact (no double rounding), and integer operations are much faster in JS than
 * going through a float64 scratch buffer. Same results as float32ToFloat16Bits for every float32.
 */
function float32BitsToFloat16Bits(bits32: number): number {
  const sign = (bits32 >>> 16) & 0x8000;
  const magnitude = bits32 & 0x7fffffff;
  if (magnitude >= 0x47800000) {
    // ≥ 65536: Infinity, or NaN (quiet, like the scalar encoder).
    return sign | (magnitude > 0x7f800000 ? 0x7e00 : 0x7c00);
  }
  if (magnitude >= 0x38800000) {
    // Normal fp16: rebias the exponent (127 → 15), then round off 13 mantissa bits to even. A carry out of the
    // mantissa correctly bumps the exponent, up to 0x7c00 = Infinity from 65520 on.
    const rebased = magnitude - 0x38000000;
    return sign | ((rebased + 0x0fff + ((rebased >>> 13) & 1)) >>> 13);
  }
  if (magnitude >= 0x33000000) {
    // Subnormal fp16 (2^-25 ≤ |x| < 2^-14): value / 2^-24 = mantissa · 2^(exponent − 126), rounded to even.
    const mantissa = (magnitude & 0x7fffff) | 0x800000;
    const shift = 126 - (magnitude >>> 23);
    const half = 1 << (shift - 1);
    const remainder = mantissa & ((half << 1) - 1);
    let units = mantissa >>> shift;
    if (remainder > half || (remainder === half && (units & 1) === 1)) units += 1;
    return sign | units;
  }
  return sign; // below 2^-25 (the tie at 2^-25 itself rounds to even, i.e. to 0, above)
}

/**
 * Encodes `count` (default: source.length) float32 values to fp16 bit patterns in `target`, round to nearest
 * even. 'auto' uses the native Float16Array when present: on Node 24.21 it encoded about 3× faster than the
 * portable path. `implementation` exists for tests and benchmarks.
 */
export function encodeFloat16(
  source: Float32Array,
  target: Uint16Array,
  count: number = source.length,
  implementation: Float16Implementation = 'auto',
): void {
  assertRange('source', source, 0, count);
  assertRange('target', target, 0, count);
  const Native = resolveNative(implementation);
  // A native view costs an allocation per call; below a few hundred elements (one token's group) the portable
  // path is as fast and allocation-free, so 'auto' keeps it there.
  if (Native !== undefined && (implementation === 'native' || count >= NATIVE_ENCODE_MINIMUM_COUNT)) {
    const view = new Native(target.buffer, target.byteOffset, count);
    view.set(count === source.length ? source : source.subarray(0, count));
    return;
  }
  for (let index = 0; index < count; index += 1) {
    // Reading the float32's bits through a one-element scratch pair: no view allocated per call.
    scratchFloat32[0] = source[index] as number;
    target[index] = float32BitsToFloat16Bits(scratchBits[0] as number);
  }
}

/**
 * Decodes `count` (default: source.length) fp16 bit patterns to float32 values in `target` (exact).
 * 'auto' uses the portable 65,536-entry table even when Float16Array exists: on Node 24.21 the table decoded
 * at least as fast as a Float16Array-to-Float32Array `set`. 'native' forces the Float16Array path.
 */
export function decodeFloat16(
  source: Uint16Array,
  target: Float32Array,
  count: number = source.length,
  implementation: Float16Implementation = 'auto',
): void {
  assertRange('source', source, 0, count);
  assertRange('target', target, 0, count);
  const Native = implementation === 'native' ? resolveNative(implementation) : undefined;
  if (Native !== undefined) {
    target.set(new Native(source.buffer, source.byteOffset, count) as unknown as ArrayLike<number>);
    return;
  }
  const table = float16DecodeTable();
  for (let index = 0; index < count; index += 1) {
    target[index] = table[source[index] as number] as number;
  }
}
