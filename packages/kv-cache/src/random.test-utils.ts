import { roundToFloat16 } from '@qaq/quantization';

/** Deterministic generator of fp16-exact values with a few large outliers, for tests. */
export function fp16Values(count: number, seed: number, scale = 2): Float32Array {
  let state = seed >>> 0 || 1;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(count);
  for (let index = 0; index < count; index += 1) {
    const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    const outlier = uniform() < 0.01 ? 8 : 1;
    out[index] = roundToFloat16(normal * scale * outlier);
  }
  return out;
}

/** Plain float64 attention over dense [tokens, kvHeads, headDim] keys and values; one query row, no mask. */
export function naiveAttention(
  keys: Float32Array,
  values: Float32Array,
  tokenCount: number,
  kvHeads: number,
  headDim: number,
  query: Float32Array,
  queryHeads: number,
  scale: number,
): { output: Float64Array; probabilities: Float64Array } {
  const output = new Float64Array(queryHeads * headDim);
  const probabilities = new Float64Array(queryHeads * tokenCount);
  const groupSize = queryHeads / kvHeads;
  for (let head = 0; head < queryHeads; head += 1) {
    const kvHead = Math.floor(head / groupSize);
    const scores: number[] = [];
    for (let token = 0; token < tokenCount; token += 1) {
      let dot = 0;
      for (let element = 0; element < headDim; element += 1) {
        dot += (query[head * headDim + element] as number) * (keys[(token * kvHeads + kvHead) * headDim + element] as number);
      }
      scores.push(dot * scale);
    }
    const maximum = Math.max(...scores);
    const weights = scores.map((score) => Math.exp(score - maximum));
    const sum = weights.reduce((a, b) => a + b, 0);
    weights.forEach((weight, token) => {
      probabilities[head * tokenCount + token] = weight / sum;
      for (let element = 0; element < headDim; element += 1) {
        output[head * headDim + element] =
          (output[head * headDim + element] as number) +
          (weight / sum) * (values[(token * kvHeads + kvHead) * headDim + element] as number);
      }
    });
  }
  return { output, probabilities };
}
