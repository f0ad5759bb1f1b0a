import type { NextTokenComparison } from './next-token-comparison.js';

/** What a run of scored positions adds up to. */
export interface MetricSummary {
  readonly scoredTokens: number;
  readonly klMean: number;
  /** Nearest-rank 99th percentile of the per-token KL. */
  readonly klP99: number;
  readonly klMax: number;
  readonly topOneAgreement: number;
  /** exp(mean −log p_method(next token)). */
  readonly perplexity: number;
  readonly referencePerplexity: number;
}

/**
 * Nearest-rank quantile: the smallest value v such that at least ⌈q·n⌉ of the n values are ≤ v (q in (0, 1]).
 * Sorts a copy; NaN for no values.
 */
export function nearestRankQuantile(values: ArrayLike<number>, quantile: number): number {
  const count = values.length;
  if (count === 0) return Number.NaN;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const rank = Math.min(count, Math.max(1, Math.ceil(quantile * count)));
  return sorted[rank - 1] as number;
}

/** Accumulates per-token comparisons (float64 sums, every KL kept for the percentile). */
export class MetricAccumulator {
  #divergences = new Float64Array(1024);
  #count = 0;
  #divergenceSum = 0;
  #methodNegativeLogLikelihoodSum = 0;
  #referenceNegativeLogLikelihoodSum = 0;
  #agreements = 0;

  get scoredTokens(): number {
    return this.#count;
  }

  add(comparison: NextTokenComparison): void {
    if (this.#count === this.#divergences.length) {
      const grown = new Float64Array(2 * this.#divergences.length);
      grown.set(this.#divergences);
      this.#divergences = grown;
    }
    this.#divergences[this.#count++] = comparison.klDivergence;
    this.#divergenceSum += comparison.klDivergence;
    this.#methodNegativeLogLikelihoodSum += comparison.methodNegativeLogLikelihood;
    this.#referenceNegativeLogLikelihoodSum += comparison.referenceNegativeLogLikelihood;
    if (comparison.topOneAgrees) this.#agreements++;
  }

  /** Every per-token KL so far, in scoring order (a copy). */
  divergences(): Float64Array {
    return this.#divergences.slice(0, this.#count);
  }

  summary(): MetricSummary {
    const count = this.#count;
    if (count === 0) {
      return { scoredTokens: 0, klMean: Number.NaN, klP99: Number.NaN, klMax: Number.NaN, topOneAgreement: Number.NaN, perplexity: Number.NaN, referencePerplexity: Number.NaN };
    }
    const divergences = this.#divergences.subarray(0, count);
    let klMax = 0;
    for (const value of divergences) if (value > klMax) klMax = value;
    return {
      scoredTokens: count,
      klMean: this.#divergenceSum / count,
      klP99: nearestRankQuantile(divergences, 0.99),
      klMax,
      topOneAgreement: this.#agreements / count,
      perplexity: Math.exp(this.#methodNegativeLogLikelihoodSum / count),
      referencePerplexity: Math.exp(this.#referenceNegativeLogLikelihoodSum / count),
    };
  }
}
