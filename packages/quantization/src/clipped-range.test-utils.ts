import { quantizeAndPackGroup } from './quantize-and-pack.js';
import { unpackAndDequantizeGroup } from './unpack-and-dequantize.js';
import type { GroupRange } from './clipped-range.js';

/** Shared by clipped-range.test.ts and bench/clipped-range.ts: bell-shaped token groups and their round trip. */

/** Quantizes a contiguous group with `range` and returns its reconstruction and parameters. */
export function roundTrip(values: Float32Array, bits: number, range: GroupRange, excluded: Uint8Array | null = null) {
  const packed = new Uint8Array(Math.ceil((values.length * bits) / 8));
  const parameters = new Float32Array(2);
  quantizeAndPackGroup(values, 0, values.length, 1, bits, packed, 0, parameters, 0, excluded, range);
  const reconstruction = new Float32Array(values.length);
  unpackAndDequantizeGroup(packed, 0, values.length, bits, parameters[0] as number, parameters[1] as number, reconstruction, 0);
  return { reconstruction, minimum: parameters[0] as number, step: parameters[1] as number };
}

export function summedSquares(values: Float32Array, reconstruction: Float32Array, excluded: Uint8Array | null = null): number {
  let sum = 0;
  for (let index = 0; index < values.length; index += 1) {
    if (excluded !== null && excluded[index] === 1) continue;
    sum += ((values[index] as number) - (reconstruction[index] as number)) ** 2;
  }
  return sum;
}

/** Deterministic normal samples (Box–Muller over a small LCG), scaled per 64-element head like a token group. */
export function gaussianGroup(seed: number, headScales: readonly number[]): Float32Array {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 1) / 4294967297;
  };
  const values = new Float32Array(64 * headScales.length);
  for (let index = 0; index < values.length; index += 1) {
    const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    values[index] = normal * (headScales[Math.floor(index / 64)] as number);
  }
  return values;
}

/**
 * Summed squared error of 'least-squares' over 'min-max' for `groups` bell-shaped groups at `bits` (the seeds the
 * test uses): below 1 where clipping helps.
 */
export function clippedErrorRatio(bits: number, headScales: readonly number[], groups = 200): number {
  let clipped = 0;
  let minMax = 0;
  for (let seed = 1; seed <= groups; seed += 1) {
    const values = gaussianGroup(seed * 7919 + bits, headScales);
    clipped += summedSquares(values, roundTrip(values, bits, 'least-squares').reconstruction);
    minMax += summedSquares(values, roundTrip(values, bits, 'min-max').reconstruction);
  }
  return clipped / minMax;
}
