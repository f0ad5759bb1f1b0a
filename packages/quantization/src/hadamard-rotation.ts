import { QaqError } from '@qaq/errors';

/**
 * A randomized Hadamard rotation R = H·D / √n of n-dimensional vectors (n a power of two): D flips signs by a fixed
 * pseudo-random pattern, H is the Walsh–Hadamard matrix. R is orthogonal, so rotating both the query and the key
 * keeps every dot product q·k, and rotating the values rotates the attention output, which `inverse` undoes.
 * Why: a head's keys carry a few huge channels; a per-token min–max quantizer spends its whole range on them.
 * After R each coordinate is a ±-weighted mix of all channels, the outliers spread out and the range shrinks
 * (QuaRot, SpinQuant). The error budget of QAQ is unchanged: ‖R·δ‖ = ‖δ‖.
 * Cost: n·log₂n additions per vector, in place, no allocation after construction.
 */
export class HadamardRotation {
  readonly dimension: number;
  /** ±1/√n per coordinate: D and the normalization folded together. */
  readonly #signs: Float32Array;

  constructor(dimension: number, seed = 0x9e3779b9) {
    if (!Number.isInteger(dimension) || dimension < 1 || (dimension & (dimension - 1)) !== 0 || dimension > 1 << 16) {
      throw new QaqError('invalid-rotation-dimension', `a Hadamard rotation needs a power-of-two dimension ≤ 65536, got ${dimension}`, {
        details: { dimension },
      });
    }
    this.dimension = dimension;
    this.#signs = new Float32Array(dimension);
    const scale = 1 / Math.sqrt(dimension);
    // xorshift32: a fixed, portable sign pattern (a cache written with one seed is read back with the same one).
    let state = seed >>> 0 || 1;
    for (let index = 0; index < dimension; index++) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      this.#signs[index] = state & 1 ? -scale : scale;
    }
  }

  /** output[v] = R · input[v] for `count` consecutive vectors (input and output may be the same array). */
  forward(input: Float32Array, output: Float32Array, count: number): void {
    this.#check(input, output, count);
    const n = this.dimension;
    const signs = this.#signs;
    for (let vector = 0; vector < count; vector++) {
      const start = vector * n;
      for (let index = 0; index < n; index++) output[start + index] = (input[start + index] as number) * (signs[index] as number);
      walshHadamardInPlace(output, start, n);
    }
  }

  /** output[v] = Rᵀ · input[v] = D·H·input[v] / √n (input and output may be the same array). */
  inverse(input: Float32Array, output: Float32Array, count: number): void {
    this.#check(input, output, count);
    const n = this.dimension;
    const signs = this.#signs;
    for (let vector = 0; vector < count; vector++) {
      const start = vector * n;
      if (output !== input) output.set(input.subarray(start, start + n), start);
      walshHadamardInPlace(output, start, n);
      for (let index = 0; index < n; index++) output[start + index] = (output[start + index] as number) * (signs[index] as number);
    }
  }

  #check(input: Float32Array, output: Float32Array, count: number): void {
    const needed = count * this.dimension;
    if (!Number.isInteger(count) || count < 0 || input.length < needed || output.length < needed) {
      throw new QaqError('invalid-rotation-input', `rotating ${count} vectors of ${this.dimension} needs ${needed} floats in and out`, {
        details: { count, dimension: this.dimension, inputLength: input.length, outputLength: output.length },
      });
    }
  }
}

/** The unnormalized fast Walsh–Hadamard transform of values[start .. start + n), n a power of two. */
function walshHadamardInPlace(values: Float32Array, start: number, n: number): void {
  for (let half = 1; half < n; half <<= 1) {
    for (let block = start; block < start + n; block += half << 1) {
      for (let index = block; index < block + half; index++) {
        const a = values[index] as number;
        const b = values[index + half] as number;
        values[index] = a + b;
        values[index + half] = a - b;
      }
    }
  }
}
