/** The largest |a[i] − b[i]| over the arrays' common length. */
export function largestDifference(a: Float32Array, b: Float32Array): number {
  let largest = 0;
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) largest = Math.max(largest, Math.abs((a[index] as number) - (b[index] as number)));
  return largest;
}

/** The largest |value|. */
export function largestMagnitude(values: Float32Array): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}
