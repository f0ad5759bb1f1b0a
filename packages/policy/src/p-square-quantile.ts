import { QaqError } from '@qaq/errors';

/**
 * Streaming quantile estimate with the P² algorithm (Jain & Chlamtac, 1985): five markers, O(1) memory
 * and time per observation. Exact while fewer than five values have been seen.
 */
export class PSquareQuantile {
  readonly quantile: number;
  private readonly heights = new Float64Array(5);
  private readonly positions = new Float64Array(5);
  private readonly desired = new Float64Array(5);
  private readonly increments = new Float64Array(5);
  private seen = 0;

  constructor(quantile: number) {
    if (!(quantile > 0 && quantile < 1)) {
      throw new QaqError('invalid-quantile', 'quantile must be in (0, 1)', { details: { quantile } });
    }
    this.quantile = quantile;
    const p = quantile;
    this.increments.set([0, p / 2, p, (1 + p) / 2, 1]);
  }

  get count(): number {
    return this.seen;
  }

  add(value: number): void {
    if (!Number.isFinite(value)) {
      throw new QaqError('invalid-value', 'quantile input must be finite', { details: { value } });
    }
    const h = this.heights;
    const n = this.positions;
    if (this.seen < 5) {
      h[this.seen] = value;
      this.seen += 1;
      if (this.seen === 5) {
        h.sort();
        const p = this.quantile;
        n.set([0, 1, 2, 3, 4]);
        this.desired.set([0, 2 * p, 4 * p, 2 + 2 * p, 4]);
      }
      return;
    }
    this.seen += 1;
    let cell: number;
    if (value < (h[0] as number)) {
      h[0] = value;
      cell = 0;
    } else if (value >= (h[4] as number)) {
      h[4] = Math.max(h[4] as number, value);
      cell = 3;
    } else {
      cell = 0;
      while (cell < 3 && value >= (h[cell + 1] as number)) cell += 1;
    }
    for (let index = cell + 1; index < 5; index += 1) n[index] = (n[index] as number) + 1;
    for (let index = 0; index < 5; index += 1) {
      this.desired[index] = (this.desired[index] as number) + (this.increments[index] as number);
    }
    for (let index = 1; index <= 3; index += 1) {
      const offset = (this.desired[index] as number) - (n[index] as number);
      const position = n[index] as number;
      if (
        (offset >= 1 && (n[index + 1] as number) - position > 1) ||
        (offset <= -1 && (n[index - 1] as number) - position < -1)
      ) {
        const step = offset >= 0 ? 1 : -1;
        const parabolic = this.parabolic(index, step);
        if ((h[index - 1] as number) < parabolic && parabolic < (h[index + 1] as number)) {
          h[index] = parabolic;
        } else {
          h[index] = this.linear(index, step);
        }
        n[index] = position + step;
      }
    }
  }

  /** The current estimate; NaN before any observation. */
  value(): number {
    if (this.seen === 0) return Number.NaN;
    if (this.seen < 5) {
      const sorted = Array.from(this.heights.subarray(0, this.seen)).sort((a, b) => a - b);
      // Same convention as the exact quantile in tests: linear interpolation between order statistics.
      const rank = this.quantile * (this.seen - 1);
      const low = Math.floor(rank);
      const high = Math.min(low + 1, this.seen - 1);
      const lowValue = sorted[low] as number;
      return lowValue + (rank - low) * ((sorted[high] as number) - lowValue);
    }
    return this.heights[2] as number;
  }

  /** Plain-data snapshot (for persistence). */
  toJSON(): { quantile: number; count: number; heights: number[]; positions: number[]; desired: number[] } {
    return {
      quantile: this.quantile,
      count: this.seen,
      heights: Array.from(this.heights),
      positions: Array.from(this.positions),
      desired: Array.from(this.desired),
    };
  }

  private parabolic(index: number, step: number): number {
    const h = this.heights;
    const n = this.positions;
    const q = h[index] as number;
    const qPrev = h[index - 1] as number;
    const qNext = h[index + 1] as number;
    const position = n[index] as number;
    const nPrev = n[index - 1] as number;
    const nNext = n[index + 1] as number;
    return (
      q +
      (step / (nNext - nPrev)) *
        ((position - nPrev + step) * ((qNext - q) / (nNext - position)) +
          (nNext - position - step) * ((q - qPrev) / (position - nPrev)))
    );
  }

  private linear(index: number, step: number): number {
    const h = this.heights;
    const n = this.positions;
    const other = index + step;
    return (
      (h[index] as number) +
      (step * ((h[other] as number) - (h[index] as number))) / ((n[other] as number) - (n[index] as number))
    );
  }
}
