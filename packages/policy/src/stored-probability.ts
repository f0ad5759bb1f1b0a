import { QaqError } from '@qaq/errors';

/**
 * Largest relative error of a stored probability: each is kept as one byte, the 11 bits of its float32 pattern from
 * bit 20 up (8 exponent bits, 3 mantissa bits) rounded to nearest and offset so that 2^-31 is code 1, 1 is code 249
 * and 0 is code 0 — eight codes per octave from 2^-31 to 1. Below 2^-31 a probability reads as 0 (an absolute error
 * under 2^-31, `storedProbabilityAbsoluteError`). The policy reads attention through bit widths: a value's allowed
 * error scales as 1/S, so 1/16 moves a width by at most log2(17/16) ≈ 0.09 bits before rounding to whole bits, and a
 * key's through a logarithm, less. Codes compare like the probabilities they hold, so maxima are taken on codes and
 * decoded once. One byte per token and row instead of two: SmolLM2-135M's statistics go from 0.042 to 0.021
 * bits/element, Gemma 3 270M's from 0.031 to 0.016.
 */
export const storedProbabilityRelativeError = 2 ** -4;

/** Probabilities below this read as 0 (code 0). */
export const storedProbabilityAbsoluteError = 2 ** -31;

/** Code c ≥ 1 holds the float32 pattern (c + probabilityCodeBias) << probabilityCodeShift. */
export const probabilityCodeShift = 20;
export const probabilityCodeBias = ((127 - 31) << 3) - 1;
/** The code of 1 (and of the few softmax sums that round above it). */
export const largestProbabilityCode = (127 << 3) - probabilityCodeBias;
const codeRounding = 1 << (probabilityCodeShift - 1);

/** A probability's float32 bit pattern (in [0, 2), −0 included) → its 8-bit code, rounded to nearest. */
export function encodeProbability(bits: number): number {
  const code = (((bits & 0x7fffffff) + codeRounding) >>> probabilityCodeShift) - probabilityCodeBias;
  return code <= 0 ? 0 : code > largestProbabilityCode ? largestProbabilityCode : code;
}

/** A code's float32 bit pattern (0 for code 0). */
export function probabilityCodeBits(code: number): number {
  return code === 0 ? 0 : (code + probabilityCodeBias) << probabilityCodeShift;
}

const decodedProbability = new Float32Array(1);
const decodedBits = new Uint32Array(decodedProbability.buffer);

export function decodeProbability(code: number): number {
  decodedBits[0] = probabilityCodeBits(code);
  return decodedProbability[0] as number;
}

/** What the attention stores hold for probability p: p as float32, encoded and decoded. */
export function storedProbability(probability: number): number {
  decodedProbability[0] = probability;
  return decodeProbability(encodeProbability(decodedBits[0] as number));
}

/**
 * Checks one step's statistics before anything is recorded: head h's row of `tokenCount` probabilities at
 * probabilities[offset + h · headStride …], each finite and in [0, 1] (with a little room for softmax rounding).
 */
export function validateProbabilities(
  layer: number,
  kvHeads: number,
  probabilities: Float32Array,
  tokenCount: number,
  offset: number,
  headStride: number,
): void {
  const contiguous = offset === 0 && headStride === tokenCount;
  if (
    (contiguous && probabilities.length !== tokenCount * kvHeads) ||
    !Number.isInteger(offset) ||
    offset < 0 ||
    !Number.isInteger(headStride) ||
    headStride < tokenCount ||
    offset + (kvHeads - 1) * headStride + tokenCount > probabilities.length
  ) {
    throw new QaqError('shape-mismatch', 'probabilities must be [kvHeads, tokenCount]', {
      details: { length: probabilities.length, expected: tokenCount * kvHeads, offset, headStride },
    });
  }
  for (let head = 0; head < kvHeads; head += 1) {
    const end = offset + head * headStride + tokenCount;
    for (let index = offset + head * headStride; index < end; index += 1) {
      const probability = probabilities[index] as number;
      // Small tolerance above 1 for float rounding of softmax sums.
      if (!(probability >= 0 && probability <= 1.0001)) {
        throw new QaqError('invalid-attention', 'attention probabilities must be finite and in [0, 1]', {
          details: { layer, index, probability },
        });
      }
    }
  }
}
