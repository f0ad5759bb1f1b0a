/**
 * In-place selection over an array of token indices keyed by a value table (logits or probabilities).
 * Expected O(n) quickselect with three-way partitioning, so ties and NaN-free inputs always terminate;
 * nothing is allocated.
 */

/** Shared result of the last partition ([greaterEnd, equalEnd]): no allocation per partition step. */
const partitionResult = new Int32Array(2);

/** Moves the `keep` largest-valued indices of `indices[0, count)` to the front. Returns min(keep, count). */
export function selectLargest(indices: Int32Array, count: number, values: Float32Array, keep: number): number {
  if (keep >= count) return count;
  let low = 0;
  let high = count;
  let remaining = keep;
  while (high - low > remaining) {
    const pivot = values[indices[(low + high) >>> 1]!]!;
    partitionDescending(indices, low, high, values, pivot);
    const greaterEnd = partitionResult[0]!;
    const equalEnd = partitionResult[1]!;
    const greaterCount = greaterEnd - low;
    const equalCount = equalEnd - greaterEnd;
    if (remaining <= greaterCount) {
      high = greaterEnd;
    } else if (remaining <= greaterCount + equalCount) {
      break;
    } else {
      remaining -= greaterCount + equalCount;
      low = equalEnd;
    }
  }
  return keep;
}

/**
 * Moves the smallest set of largest-valued indices whose summed value reaches `targetMass` to the front and
 * returns its size (the nucleus of top-p sampling). Values must be non-negative.
 */
export function selectNucleus(indices: Int32Array, count: number, values: Float32Array, targetMass: number): number {
  let low = 0;
  let high = count;
  let needed = targetMass;
  while (high - low > 1) {
    const pivot = values[indices[(low + high) >>> 1]!]!;
    partitionDescending(indices, low, high, values, pivot);
    const greaterEnd = partitionResult[0]!;
    const equalEnd = partitionResult[1]!;
    const greaterMass = sumValues(indices, low, greaterEnd, values);
    const equalMass = sumValues(indices, greaterEnd, equalEnd, values);
    if (greaterEnd > low && greaterMass >= needed) {
      high = greaterEnd;
    } else if (greaterMass + equalMass >= needed) {
      const equalCount = equalEnd - greaterEnd;
      const equalTaken = pivot > 0 ? Math.ceil((needed - greaterMass) / pivot) : equalCount;
      return greaterEnd + Math.min(equalCount, Math.max(1, equalTaken));
    } else {
      needed -= greaterMass + equalMass;
      low = equalEnd;
      if (low >= high) return high; // rounding left a sliver of mass: keep everything considered
    }
  }
  return high;
}

/** Three-way partition of indices[low, high) into [> pivot][== pivot][< pivot]; boundaries in partitionResult. */
function partitionDescending(
  indices: Int32Array,
  low: number,
  high: number,
  values: Float32Array,
  pivot: number,
): void {
  let greaterEnd = low;
  let cursor = low;
  let lessStart = high;
  while (cursor < lessStart) {
    const index = indices[cursor]!;
    const value = values[index]!;
    if (value > pivot) {
      indices[cursor] = indices[greaterEnd]!;
      indices[greaterEnd] = index;
      greaterEnd++;
      cursor++;
    } else if (value < pivot) {
      lessStart--;
      indices[cursor] = indices[lessStart]!;
      indices[lessStart] = index;
    } else {
      cursor++;
    }
  }
  partitionResult[0] = greaterEnd;
  partitionResult[1] = lessStart;
}

function sumValues(indices: Int32Array, start: number, end: number, values: Float32Array): number {
  let sum = 0;
  for (let position = start; position < end; position++) sum += values[indices[position]!]!;
  return sum;
}
