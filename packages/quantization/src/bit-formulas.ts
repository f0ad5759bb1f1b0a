import { QaqError } from '@qaq/errors';
import { assertBitWidth, type BitWidth } from './bit-width.js';

/**
 * The QAQ bit formulas (qaq-method.md §1–2), pure functions of plain numbers.
 * A midpoint quantizer with segment width w has a uniform error of std w/√12, and w = range/2^B, so
 * B = ⌈log2(range / (√12·σ))⌉ is the fewest bits whose error std is at most σ.
 */

const SQRT_12 = Math.sqrt(12);

function invalidArgument(name: string, value: number, requirement: string): QaqError {
  return new QaqError('invalid-argument', `${name} must be ${requirement}, got ${String(value)}`, {
    details: { [name]: value },
  });
}

/**
 * Bits for a group of value range `range` (max − min) so that the quantization error std is at most
 * `allowedStd`: clamp(⌈log2(range/(√12·allowedStd))⌉, minimumBits, maximumBits).
 * range 0 → minimumBits; allowedStd ≤ 0 → maximumBits; allowedStd = +Infinity → minimumBits.
 * Widths above 8 do not exist below fp16: a need above 8 bits gives 16 when maximumBits is 16, else maximumBits.
 * The result is always a BitWidth in [minimumBits, maximumBits].
 */
export function bitsForRange(range: number, allowedStd: number, minimumBits: number, maximumBits: number): BitWidth {
  assertBitWidth(minimumBits);
  assertBitWidth(maximumBits);
  if (minimumBits > maximumBits) {
    throw new QaqError('invalid-argument', `minimumBits ${minimumBits} exceeds maximumBits ${maximumBits}`, {
      details: { minimumBits, maximumBits },
    });
  }
  if (!(range >= 0) || range === Infinity) {
    throw invalidArgument('range', range, 'finite and ≥ 0');
  }
  if (Number.isNaN(allowedStd) || allowedStd === -Infinity) {
    throw invalidArgument('allowedStd', allowedStd, 'a number or +Infinity');
  }
  if (range === 0 || allowedStd === Infinity) {
    return minimumBits;
  }
  if (allowedStd <= 0) {
    return maximumBits;
  }
  const ratio = range / (SQRT_12 * allowedStd);
  const needed = ceilLog2(ratio);
  if (needed <= minimumBits) {
    return minimumBits;
  }
  if (needed > 8) {
    return maximumBits;
  }
  // minimumBits < needed ≤ 8, so needed is a width in 2..8; maximumBits 16 admits it.
  return needed <= maximumBits ? (needed as BitWidth) : maximumBits;
}

/** ⌈log2(ratio)⌉ for a positive ratio, corrected so powers of two are exact despite Math.log2 rounding. */
function ceilLog2(ratio: number): number {
  if (ratio === Infinity) {
    return Infinity;
  }
  let exponent = Math.ceil(Math.log2(ratio));
  if (2 ** (exponent - 1) >= ratio) {
    exponent -= 1;
  } else if (2 ** exponent < ratio) {
    exponent += 1;
  }
  return exponent;
}

function assertTokenCount(tokenCount: number): void {
  if (!Number.isInteger(tokenCount) || tokenCount < 1) {
    throw invalidArgument('tokenCount', tokenCount, 'an integer ≥ 1');
  }
}

function assertNonNegativeFinite(name: string, value: number): void {
  if (!(value >= 0) || value === Infinity) {
    throw invalidArgument(name, value, 'finite and ≥ 0');
  }
}

/**
 * The allowed error std of a value token: σ_X,max / (√T · S_t) (qaq-method.md §2), where S_t is the attention
 * the token is predicted to receive. S_t = 0 → +Infinity (nobody attends: any precision will do).
 */
export function valueAllowedStd(sigmaOutputMax: number, tokenCount: number, predictedAttention: number): number {
  assertNonNegativeFinite('sigmaOutputMax', sigmaOutputMax);
  assertTokenCount(tokenCount);
  assertNonNegativeFinite('predictedAttention', predictedAttention);
  if (predictedAttention === 0) {
    return Infinity;
  }
  return sigmaOutputMax / (Math.sqrt(tokenCount) * predictedAttention);
}

/**
 * The allowed error std of every key element: sqrt( ln(T³/(T−1)·σ_S,max² + 1) / ‖q̃‖² ) (qaq-method.md §2),
 * where q̃ = c·q already includes the model's score scale c. T = 1 → +Infinity (a lone token's softmax is 1
 * whatever its key); ‖q̃‖² = 0 → +Infinity (scores do not depend on the keys).
 */
export function keyAllowedStd(sigmaScoreMax: number, tokenCount: number, scaledQueryNormSquared: number): number {
  assertNonNegativeFinite('sigmaScoreMax', sigmaScoreMax);
  assertTokenCount(tokenCount);
  assertNonNegativeFinite('scaledQueryNormSquared', scaledQueryNormSquared);
  if (tokenCount === 1 || scaledQueryNormSquared === 0) {
    return Infinity;
  }
  const tokens = tokenCount;
  const growth = ((tokens * tokens * tokens) / (tokens - 1)) * sigmaScoreMax * sigmaScoreMax;
  return Math.sqrt(Math.log1p(growth) / scaledQueryNormSquared);
}

/**
 * The allowed error std of one token's key elements when the token's predicted attention S_t is known:
 * sqrt( ln(σ_S,max² / S_t² + 1) / ‖q̃‖² ). The key bound above asks that the error of a probability p_t, which a
 * score error δ ~ N(0, σ²) scales by e^δ, stay within σ_S,max: p_t²·(e^σ² − 1) ≤ σ_S,max², and it puts p_t = 1/T
 * for every token (it then equals this with S_t = 1/T, up to its factor T/(T−1)). With S_t in its place, keys get
 * what values get: tokens nobody attends to can be coarse, tokens that draw attention get more bits.
 * S_t = 0 or ‖q̃‖² = 0 → +Infinity.
 */
export function keyAllowedStdForAttention(sigmaScoreMax: number, predictedAttention: number, scaledQueryNormSquared: number): number {
  assertNonNegativeFinite('sigmaScoreMax', sigmaScoreMax);
  assertNonNegativeFinite('predictedAttention', predictedAttention);
  assertNonNegativeFinite('scaledQueryNormSquared', scaledQueryNormSquared);
  if (predictedAttention === 0 || scaledQueryNormSquared === 0) {
    return Infinity;
  }
  const ratio = sigmaScoreMax / predictedAttention;
  return Math.sqrt(Math.log1p(ratio * ratio) / scaledQueryNormSquared);
}
