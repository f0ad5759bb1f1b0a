/**
 * Writes log-softmax(logits) into `output` in float64: the maximum is subtracted first and Σ exp is accumulated in
 * float64, so no term overflows and tiny probabilities keep their digits. Returns the log normaliser
 * (max + log Σ exp(x − max)). Non-finite logits are rejected by the caller (see `compareNextToken`).
 */
export function logSoftmaxInto(logits: ArrayLike<number>, output: Float64Array): number {
  const length = logits.length;
  let maximum = -Infinity;
  for (let index = 0; index < length; index++) {
    const value = logits[index] as number;
    if (value > maximum) maximum = value;
  }
  let sum = 0;
  for (let index = 0; index < length; index++) sum += Math.exp((logits[index] as number) - maximum);
  const logSum = Math.log(sum);
  // (x − max) − log Σ keeps the digits that x − (max + log Σ) would lose when |max| is large.
  for (let index = 0; index < length; index++) output[index] = (logits[index] as number) - maximum - logSum;
  return maximum + logSum;
}

/** Index of the largest value; ties go to the lowest index (what greedy decoding picks). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  let bestValue = values[0] as number;
  for (let index = 1; index < values.length; index++) {
    const value = values[index] as number;
    if (value > bestValue) {
      bestValue = value;
      best = index;
    }
  }
  return best;
}
