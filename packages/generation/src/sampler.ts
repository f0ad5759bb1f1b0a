import { QaqError } from '@qaq/errors';
import { SeededRandom } from './random.js';
import { resolveSamplingOptions, type ResolvedSamplingOptions, type SamplingOptions } from './sampling-options.js';
import { selectLargest, selectNucleus } from './selection.js';

/**
 * Chooses next tokens from logits. Every buffer is allocated once, at construction (sized by the vocabulary), so
 * sampling a token allocates nothing. Holds the seeded PRNG and the window of recent tokens for the penalty.
 */
export class Sampler {
  readonly options: ResolvedSamplingOptions;
  readonly vocabularySize: number;
  private readonly random: SeededRandom;
  private readonly workingLogits: Float32Array;
  private readonly weights: Float32Array;
  private readonly candidates: Int32Array;
  private readonly recentTokens: Int32Array;
  private recentCount = 0;
  private recentNext = 0;
  /** Per-token stamp so a token repeated in the window is penalised once. */
  private readonly penaltyStamps: Uint32Array;
  private penaltyStamp = 0;

  constructor(vocabularySize: number, options: SamplingOptions = {}) {
    if (!Number.isInteger(vocabularySize) || vocabularySize <= 0) {
      throw new QaqError('invalid-vocabulary-size', 'vocabularySize must be a positive integer', {
        details: { vocabularySize },
      });
    }
    this.options = resolveSamplingOptions(options);
    this.vocabularySize = vocabularySize;
    this.random = new SeededRandom(this.options.seed);
    this.workingLogits = new Float32Array(vocabularySize);
    this.weights = new Float32Array(vocabularySize);
    this.candidates = new Int32Array(vocabularySize);
    this.recentTokens = new Int32Array(this.options.repetitionWindow);
    this.penaltyStamps = new Uint32Array(this.options.repetitionPenalty === 1 ? 0 : vocabularySize);
  }

  /** Records a token (prompt or generated) in the repetition window. */
  observe(tokenId: number): void {
    if (this.recentTokens.length === 0) return;
    this.recentTokens[this.recentNext] = tokenId;
    this.recentNext = (this.recentNext + 1) % this.recentTokens.length;
    if (this.recentCount < this.recentTokens.length) this.recentCount++;
  }

  /** Forgets the repetition window and reseeds the PRNG (same seed → same tokens again). */
  reset(seed: number = this.options.seed): void {
    this.recentCount = 0;
    this.recentNext = 0;
    this.random.reseed(seed);
  }

  /** Returns the chosen token id. `logits` needs at least `vocabularySize` values; only those are read. */
  sample(logits: Float32Array): number {
    if (logits.length < this.vocabularySize) {
      throw new QaqError('logits-too-short', 'logits have fewer values than the vocabulary', {
        details: { logitsLength: logits.length, vocabularySize: this.vocabularySize },
      });
    }
    const working = this.workingLogits;
    const vocabularySize = this.vocabularySize;
    for (let token = 0; token < vocabularySize; token++) {
      const value = logits[token]!;
      working[token] = value === value ? value : -Infinity; // NaN never wins and never breaks partitioning
    }
    this.applyRepetitionPenalty();
    const { temperature, topK, topP, minP } = this.options;
    if (temperature === 0) return this.argmax();

    const inverseTemperature = 1 / temperature;
    const candidates = this.candidates;
    for (let token = 0; token < vocabularySize; token++) {
      working[token] = working[token]! * inverseTemperature;
      candidates[token] = token;
    }
    let count = vocabularySize;
    if (topK > 0) count = selectLargest(candidates, count, working, topK);

    // Softmax numerators relative to the best candidate: the best weighs exactly 1, which makes min-p a plain cut.
    let best = -Infinity;
    for (let position = 0; position < count; position++) best = Math.max(best, working[candidates[position]!]!);
    if (best === -Infinity) this.throwNoFiniteLogit();
    const weights = this.weights;
    let mass = 0;
    for (let position = 0; position < count; position++) {
      const token = candidates[position]!;
      const weight = Math.exp(working[token]! - best);
      weights[token] = weight;
      mass += weight;
    }
    if (minP > 0) {
      let kept = 0;
      mass = 0;
      for (let position = 0; position < count; position++) {
        const token = candidates[position]!;
        const weight = weights[token]!;
        if (weight >= minP) {
          candidates[kept++] = token;
          mass += weight;
        }
      }
      count = kept;
    }
    if (topP < 1) {
      count = selectNucleus(candidates, count, weights, topP * mass);
      mass = 0;
      for (let position = 0; position < count; position++) mass += weights[candidates[position]!]!;
    }
    let threshold = this.random.nextFloat() * mass;
    for (let position = 0; position < count - 1; position++) {
      const token = candidates[position]!;
      threshold -= weights[token]!;
      if (threshold < 0) return token;
    }
    return candidates[count - 1]!; // rounding: the remaining mass belongs to the last candidate
  }

  private applyRepetitionPenalty(): void {
    const penalty = this.options.repetitionPenalty;
    if (penalty === 1 || this.recentCount === 0) return;
    this.penaltyStamp = (this.penaltyStamp + 1) >>> 0;
    if (this.penaltyStamp === 0) {
      this.penaltyStamps.fill(0);
      this.penaltyStamp = 1;
    }
    const working = this.workingLogits;
    for (let position = 0; position < this.recentCount; position++) {
      const token = this.recentTokens[position]!;
      if (token < 0 || token >= this.vocabularySize || this.penaltyStamps[token] === this.penaltyStamp) continue;
      this.penaltyStamps[token] = this.penaltyStamp;
      const value = working[token]!;
      working[token] = value > 0 ? value / penalty : value * penalty;
    }
  }

  private argmax(): number {
    const working = this.workingLogits;
    let bestToken = -1;
    let bestValue = -Infinity;
    for (let token = 0; token < this.vocabularySize; token++) {
      const value = working[token]!;
      if (value > bestValue) {
        bestValue = value;
        bestToken = token;
      }
    }
    if (bestToken < 0) this.throwNoFiniteLogit();
    return bestToken;
  }

  private throwNoFiniteLogit(): never {
    throw new QaqError('invalid-logits', 'no logit is finite (all NaN or -Infinity)', {
      details: { vocabularySize: this.vocabularySize },
    });
  }
}
