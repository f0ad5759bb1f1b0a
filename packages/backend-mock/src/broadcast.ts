import { QaqError } from '@qaq/errors';

/** The numpy-broadcast shape of two shapes, or a QaqError('run-failed') naming both. */
export function broadcastShape(left: readonly number[], right: readonly number[]): number[] {
  const rank = Math.max(left.length, right.length);
  const shape: number[] = [];
  for (let axis = 0; axis < rank; axis += 1) {
    const leftSize = left[left.length - rank + axis] ?? 1;
    const rightSize = right[right.length - rank + axis] ?? 1;
    if (leftSize !== rightSize && leftSize !== 1 && rightSize !== 1) {
      throw new QaqError('run-failed', `Shapes [${left.join(', ')}] and [${right.join(', ')}] do not broadcast`, {
        details: { reason: 'broadcast', left, right },
      });
    }
    shape.push(leftSize === 1 ? rightSize : leftSize);
  }
  return shape;
}

/**
 * For each element of `shape`, the index into a tensor of `source` shape broadcast to it. Allocated once per call;
 * the mock favours clarity over speed.
 */
export function broadcastIndices(source: readonly number[], shape: readonly number[]): Int32Array {
  const count = shape.reduce((product, size) => product * size, 1);
  const indices = new Int32Array(count);
  const offset = shape.length - source.length;
  const strides = new Array<number>(shape.length).fill(0);
  let stride = 1;
  for (let axis = source.length - 1; axis >= 0; axis -= 1) {
    const size = source[axis] ?? 1;
    strides[axis + offset] = size === 1 ? 0 : stride;
    stride *= size;
  }
  for (let flat = 0; flat < count; flat += 1) {
    let remainder = flat;
    let index = 0;
    for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
      const size = shape[axis] ?? 1;
      index += (remainder % size) * (strides[axis] ?? 0);
      remainder = Math.floor(remainder / size);
    }
    indices[flat] = index;
  }
  return indices;
}
