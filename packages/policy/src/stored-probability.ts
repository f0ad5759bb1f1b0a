import { QaqError } from '@qaq/errors';

/**
 * Largest relative error of a stored probability: each is kept as the 16 bits of its float32 pattern from bit 14
 * up (probabilities are below 2, so the sign and the exponent's top bit are always 0), rounded to nearest — the
 * full exponent range and 9 of the 23 mantissa bits (below float32's normal range, 2^-126, the error is at most
 * 2^-136 absolute). The policy reads attention through a logarithm, where 0.1 % moves a group's bit width only
 * when it sits within 0.0014 bits of a threshold. Codes compare like the probabilities they hold, so maxima are
 * taken on codes and decoded once.
 */
export const storedProbabilityRelativeError = 2 ** -10;

export const probabilityCodeShift = 14;
const codeRounding = 1 << (probabilityCodeShift - 1);

/** A probability's float32 bit pattern (in [0, 2), −0 included) → its 16-bit code, rounded to nearest. */
export function encodeProbability(bits: number): number {
  return ((bits & 0x7fffffff) + codeRounding) >>> probabilityCodeShift;
}

const decodedProbability = new Float32Array(1);
const decodedBits = new Uint32Array(decodedProbability.buffer);

export function decodeProbability(code: number): number {
  decodedBits[0] = code << probabilityCodeShift;
  return decodedProbability[0] as number;
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
