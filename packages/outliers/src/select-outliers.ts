import { QaqError } from '@qaq/errors';
import { FLOAT16_MAX, float32ToFloat16Bits } from '@qaq/quantization';

/**
 * Picks a group's outliers: the `perSide` smallest and `perSide` largest elements of
 * source[offset + i·stride], i < length, under the total order (value, index) — equal values are ordered by
 * index, so ties resolve deterministically (the lowest indices are the "smallest", the highest the "largest").
 *
 * Writes count = 2·perSide entries from outOffset: positionsOut (in-group indices, ascending) and valuesOut
 * (fp16 bit patterns, round to nearest even — exact for fp16-exact inputs). excludedOut[0..length) is set to 1
 * at outlier indices and 0 elsewhere, ready to pass to quantizeGroup as `excluded`. Returns count.
 *
 * O(length · perSide) time, no allocation: the two running selections live in positionsOut itself.
 * Errors (nothing written): 'non-finite-value', 'out-of-fp16-range' (|x| > 65504), 'out-of-bounds',
 * 'invalid-outlier-count' (perSide not an integer or 2·perSide > length).
 */
export function selectOutliers(
  source: Float32Array,
  offset: number,
  length: number,
  stride: number,
  perSide: number,
  positionsOut: Uint16Array,
  valuesOut: Uint16Array,
  outOffset: number,
  excludedOut: Uint8Array,
): number {
  validateSelectInput(source, offset, length, stride, perSide, positionsOut, valuesOut, outOffset, excludedOut);
  const count = 2 * perSide;
  excludedOut.fill(0, 0, length);
  if (count === 0) {
    return 0;
  }
  const lowStart = outOffset;
  const highStart = outOffset + perSide;
  let lowSize = 0;
  let highSize = 0;
  for (let index = 0, position = offset; index < length; index += 1, position += stride) {
    const value = source[position] as number;
    // Low selection: ascending by (value, index); the last slot is the largest kept, i.e. the one to beat.
    if (lowSize < perSide || precedes(value, index, source, offset, stride, positionsOut[lowStart + lowSize - 1] as number)) {
      let slot = lowSize < perSide ? lowSize++ : lowSize - 1;
      while (slot > 0 && precedes(value, index, source, offset, stride, positionsOut[lowStart + slot - 1] as number)) {
        positionsOut[lowStart + slot] = positionsOut[lowStart + slot - 1] as number;
        slot -= 1;
      }
      positionsOut[lowStart + slot] = index;
    }
    // High selection: descending by (value, index); the last slot is the smallest kept.
    if (highSize < perSide || follows(value, index, source, offset, stride, positionsOut[highStart + highSize - 1] as number)) {
      let slot = highSize < perSide ? highSize++ : highSize - 1;
      while (slot > 0 && follows(value, index, source, offset, stride, positionsOut[highStart + slot - 1] as number)) {
        positionsOut[highStart + slot] = positionsOut[highStart + slot - 1] as number;
        slot -= 1;
      }
      positionsOut[highStart + slot] = index;
    }
  }
  // With 2·perSide ≤ length the two selections are disjoint (the first and last perSide of a strict total order).
  // Sort the positions ascending so records are canonical, then fill values and the mask.
  const end = outOffset + count;
  for (let cursor = outOffset + 1; cursor < end; cursor += 1) {
    const position = positionsOut[cursor] as number;
    let slot = cursor;
    while (slot > outOffset && (positionsOut[slot - 1] as number) > position) {
      positionsOut[slot] = positionsOut[slot - 1] as number;
      slot -= 1;
    }
    positionsOut[slot] = position;
  }
  for (let cursor = outOffset; cursor < end; cursor += 1) {
    const index = positionsOut[cursor] as number;
    valuesOut[cursor] = float32ToFloat16Bits(source[offset + index * stride] as number);
    excludedOut[index] = 1;
  }
  return count;
}

/** (value, index) < (source at otherIndex, otherIndex). */
function precedes(value: number, index: number, source: Float32Array, offset: number, stride: number, otherIndex: number): boolean {
  const other = source[offset + otherIndex * stride] as number;
  return value < other || (value === other && index < otherIndex);
}

/** (value, index) > (source at otherIndex, otherIndex). */
function follows(value: number, index: number, source: Float32Array, offset: number, stride: number, otherIndex: number): boolean {
  const other = source[offset + otherIndex * stride] as number;
  return value > other || (value === other && index > otherIndex);
}

function outOfBounds(message: string, details: Record<string, unknown>): QaqError {
  return new QaqError('out-of-bounds', message, { details });
}

function validateSelectInput(
  source: Float32Array,
  offset: number,
  length: number,
  stride: number,
  perSide: number,
  positionsOut: Uint16Array,
  valuesOut: Uint16Array,
  outOffset: number,
  excludedOut: Uint8Array,
): void {
  if (!Number.isInteger(length) || length < 1 || length > 65536) {
    throw outOfBounds(`group length must be an integer in 1..65536, got ${String(length)}`, { length });
  }
  if (
    !Number.isInteger(offset) ||
    offset < 0 ||
    !Number.isInteger(stride) ||
    stride < 1 ||
    offset + (length - 1) * stride >= source.length
  ) {
    throw outOfBounds(`source: ${length} elements from ${offset} with stride ${stride} do not fit in ${source.length}`, {
      offset,
      length,
      stride,
      sourceLength: source.length,
    });
  }
  if (!Number.isInteger(perSide) || perSide < 0 || 2 * perSide > length) {
    throw new QaqError('invalid-outlier-count', `cannot keep ${String(perSide)} outliers per side in a group of ${length}`, {
      details: { perSide, length },
    });
  }
  const count = 2 * perSide;
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + count > positionsOut.length || outOffset + count > valuesOut.length) {
    throw outOfBounds(`outputs: ${count} outliers from ${outOffset} do not fit`, {
      outOffset,
      count,
      positionsLength: positionsOut.length,
      valuesLength: valuesOut.length,
    });
  }
  if (excludedOut.length < length) {
    throw outOfBounds(`excludedOut holds ${excludedOut.length} flags, the group has ${length}`, {
      excludedLength: excludedOut.length,
      length,
    });
  }
  for (let index = 0, position = offset; index < length; index += 1, position += stride) {
    const value = source[position] as number;
    if (!(value >= -FLOAT16_MAX && value <= FLOAT16_MAX)) {
      const finite = value - value === 0;
      throw new QaqError(
        finite ? 'out-of-fp16-range' : 'non-finite-value',
        `group element ${index} is ${String(value)}`,
        { details: { index, value: String(value), sourceIndex: position } },
      );
    }
  }
}
