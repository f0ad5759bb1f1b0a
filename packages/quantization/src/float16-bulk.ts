import { QaqError } from '@qaq/errors';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16.js';
import { assertRange } from './validation.js';

/**
 * Bulk fp16 conversion. When the runtime has `Float16Array` (Node ≥ 24, recent browsers) the conversion runs
 * natively through a Float16Array view over the same bytes; otherwise a portable Uint16Array path runs.
 * Both paths give the same bits for every non-NaN value (NaN payloads are implementation-defined natively).
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

/**
 * Encodes `count` (default: source.length) float32 values to fp16 bit patterns in `target`, round to nearest
 * even. `implementation` exists for tests and benchmarks; leave it at 'auto'.
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
  if (Native !== undefined) {
    const view = new Native(target.buffer, target.byteOffset, count);
    view.set(count === source.length ? source : source.subarray(0, count));
    return;
  }
  for (let index = 0; index < count; index += 1) {
    target[index] = float32ToFloat16Bits(source[index] as number);
  }
}

/** Decodes `count` (default: source.length) fp16 bit patterns to float32 values in `target` (exact). */
export function decodeFloat16(
  source: Uint16Array,
  target: Float32Array,
  count: number = source.length,
  implementation: Float16Implementation = 'auto',
): void {
  assertRange('source', source, 0, count);
  assertRange('target', target, 0, count);
  const Native = resolveNative(implementation);
  if (Native !== undefined) {
    target.set(new Native(source.buffer, source.byteOffset, count) as unknown as ArrayLike<number>);
    return;
  }
  const table = float16DecodeTable();
  for (let index = 0; index < count; index += 1) {
    target[index] = table[source[index] as number] as number;
  }
}
