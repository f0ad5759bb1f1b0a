import { QaqError } from '@qaq/errors';
import { argmax, logSoftmaxInto } from './log-softmax.js';

/** One scored position: the method's next-token distribution against the reference's, and the true next token. */
export interface NextTokenComparison {
  /** KL(reference ‖ method) in nats, ≥ 0. */
  readonly klDivergence: number;
  /** −log p_method(target). */
  readonly methodNegativeLogLikelihood: number;
  /** −log p_reference(target). */
  readonly referenceNegativeLogLikelihood: number;
  /** Whether both distributions put their maximum on the same token. */
  readonly topOneAgrees: boolean;
}

/** Reference log-probabilities of one position, computed once and compared with every method. */
export interface ReferenceDistribution {
  readonly logProbabilities: Float64Array;
  readonly topOne: number;
}

function assertFinite(logits: ArrayLike<number>, source: string): void {
  for (let index = 0; index < logits.length; index++) {
    if (!Number.isFinite(logits[index] as number)) {
      throw new QaqError('non-finite-logits', `the ${source} returned a non-finite logit`, {
        details: { source, index, value: logits[index] },
      });
    }
  }
}

/** Fills `into` (or a new buffer) with the reference's log-probabilities and its top-1 token. */
export function referenceDistribution(logits: ArrayLike<number>, into?: Float64Array): ReferenceDistribution {
  assertFinite(logits, 'reference');
  const logProbabilities = into ?? new Float64Array(logits.length);
  logSoftmaxInto(logits, logProbabilities);
  return { logProbabilities, topOne: argmax(logits) };
}

/**
 * Compares a method's logits with the reference distribution at one position. KL(P‖Q) = Σ p (log p − log q) is
 * summed in float64 over the whole vocabulary; it is clamped at 0 because rounding can leave −1e-17 when P = Q.
 * `scratch` holds the method's log-probabilities (vocabulary length, reused across calls).
 */
export function compareNextToken(
  reference: ReferenceDistribution,
  methodLogits: ArrayLike<number>,
  target: number,
  scratch: Float64Array,
): NextTokenComparison {
  const vocabularySize = reference.logProbabilities.length;
  if (methodLogits.length !== vocabularySize || scratch.length < vocabularySize) {
    throw new QaqError('vocabulary-mismatch', 'the method and the reference must share one vocabulary', {
      details: { reference: vocabularySize, method: methodLogits.length, scratch: scratch.length },
    });
  }
  if (!Number.isInteger(target) || target < 0 || target >= vocabularySize) {
    throw new QaqError('invalid-token', `target token ${target} is outside the vocabulary`, { details: { target, vocabularySize } });
  }
  assertFinite(methodLogits, 'method');
  logSoftmaxInto(methodLogits, scratch);
  const logP = reference.logProbabilities;
  let divergence = 0;
  for (let index = 0; index < vocabularySize; index++) {
    const logProbability = logP[index] as number;
    const probability = Math.exp(logProbability);
    if (probability > 0) divergence += probability * (logProbability - (scratch[index] as number));
  }
  return {
    klDivergence: Math.max(0, divergence),
    methodNegativeLogLikelihood: -(scratch[target] as number),
    referenceNegativeLogLikelihood: -(logP[target] as number),
    topOneAgrees: argmax(methodLogits) === reference.topOne,
  };
}
