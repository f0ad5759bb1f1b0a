import { QaqError } from '@qaq/errors';
import { FLOAT16_MAX } from './float16.js';

/** Internal argument checks shared by the hot paths. They throw before anything is written. */

interface IndexedBuffer {
  readonly length: number;
}

/**
 * Checks that elements `offset, offset + stride, …` (count of them) all lie inside `buffer`.
 * A count of 0 is allowed here (callers that forbid empty groups check that first).
 */
export function assertStridedRange(
  name: string,
  buffer: IndexedBuffer,
  offset: number,
  count: number,
  stride: number,
): void {
  if (
    !Number.isInteger(offset) ||
    offset < 0 ||
    !Number.isInteger(count) ||
    count < 0 ||
    !Number.isInteger(stride) ||
    stride < 1 ||
    (count > 0 && offset + (count - 1) * stride >= buffer.length)
  ) {
    throw new QaqError('out-of-bounds', `${name}: ${count} elements from ${offset} with stride ${stride} do not fit in ${buffer.length}`, {
      details: { buffer: name, offset, count, stride, bufferLength: buffer.length },
    });
  }
}

/** Checks that `count` contiguous elements from `offset` fit in `buffer`. */
export function assertRange(name: string, buffer: IndexedBuffer, offset: number, count: number): void {
  if (
    !Number.isInteger(offset) ||
    offset < 0 ||
    !Number.isInteger(count) ||
    count < 0 ||
    offset + count > buffer.length
  ) {
    throw new QaqError('out-of-bounds', `${name}: ${count} elements from ${offset} do not fit in ${buffer.length}`, {
      details: { buffer: name, offset, count, bufferLength: buffer.length },
    });
  }
}

export function assertNonEmptyGroup(length: number): void {
  if (length === 0) {
    throw new QaqError('empty-group', 'a quantization group needs at least one element', { details: { length } });
  }
}

/**
 * Throws QaqError('non-finite-value') if any strided element is NaN or ±Infinity, and
 * QaqError('out-of-fp16-range') if any magnitude exceeds 65504 (the group's fp16 minimum, step and outliers could
 * not hold it). Inside that range an fp16 minimum and step always exist.
 */
export function assertGroupValues(source: Float32Array, offset: number, length: number, stride: number): void {
  for (let index = 0, position = offset; index < length; index += 1, position += stride) {
    const value = source[position] as number;
    if (!(value >= -FLOAT16_MAX && value <= FLOAT16_MAX)) {
      const finite = value - value === 0;
      throw new QaqError(
        finite ? 'out-of-fp16-range' : 'non-finite-value',
        finite ? `group element ${index} is ${value}, beyond ±${FLOAT16_MAX}` : `group element ${index} is ${String(value)}`,
        { details: { index, value: String(value), sourceIndex: position } },
      );
    }
  }
}
