// Float64 references the backends' float32 results are compared with.

export function referenceAdd(left: ArrayLike<number>, right: ArrayLike<number>): Float64Array {
  const result = new Float64Array(left.length);
  for (let index = 0; index < left.length; index += 1) result[index] = (left[index] ?? 0) + (right[index] ?? 0);
  return result;
}

/**
 * left [rows, inner] @ right [inner, columns], and per element the sum of |left·right| terms, which bounds the
 * rounding error of any float32 summation order.
 */
export function referenceMatMul(
  left: ArrayLike<number>,
  right: ArrayLike<number>,
  rows: number,
  inner: number,
  columns: number,
): { product: Float64Array; magnitude: Float64Array } {
  const product = new Float64Array(rows * columns);
  const magnitude = new Float64Array(rows * columns);
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column < columns; column += 1) {
      let sum = 0;
      let absoluteSum = 0;
      for (let step = 0; step < inner; step += 1) {
        const term = (left[row * inner + step] ?? 0) * (right[step * columns + column] ?? 0);
        sum += term;
        absoluteSum += Math.abs(term);
      }
      product[row * columns + column] = sum;
      magnitude[row * columns + column] = absoluteSum;
    }
  }
  return { product, magnitude };
}

/** Softmax over the last axis of a [rows, width] matrix, max-subtracted for stability. */
export function referenceSoftmax(logits: ArrayLike<number>, rows: number, width: number): Float64Array {
  const result = new Float64Array(rows * width);
  for (let row = 0; row < rows; row += 1) {
    let maximum = Number.NEGATIVE_INFINITY;
    for (let column = 0; column < width; column += 1) maximum = Math.max(maximum, logits[row * width + column] ?? 0);
    let total = 0;
    for (let column = 0; column < width; column += 1) {
      const value = Math.exp((logits[row * width + column] ?? 0) - maximum);
      result[row * width + column] = value;
      total += value;
    }
    for (let column = 0; column < width; column += 1) result[row * width + column] = (result[row * width + column] ?? 0) / total;
  }
  return result;
}
