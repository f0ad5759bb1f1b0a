import { QaqError } from '@qaq/errors';

/** The paper's α: 1% of a group's elements are outliers, half at each end. */
export const DEFAULT_OUTLIER_FRACTION = 0.01;

/**
 * Outliers kept at EACH end of a group of `groupLength` elements: round(α·N/2), rounding halves up.
 * The small-group rule follows from it: α·N in [1, 2) keeps 1 per side (so D = 64 or 128 at α = 1% keeps 2 per
 * group, like the authors' code), α·N < 1 keeps none. 2·perSide never exceeds N because α < 0.5.
 * fraction outside [0, 0.5) or a non-integer/negative groupLength → QaqError('invalid-outlier-fraction' /
 * 'out-of-bounds').
 */
export function outlierCountPerSide(groupLength: number, fraction: number = DEFAULT_OUTLIER_FRACTION): number {
  if (!(fraction >= 0 && fraction < 0.5)) {
    throw new QaqError('invalid-outlier-fraction', `outlier fraction must be in [0, 0.5), got ${String(fraction)}`, {
      details: { fraction },
    });
  }
  if (!Number.isInteger(groupLength) || groupLength < 0) {
    throw new QaqError('out-of-bounds', `group length must be an integer ≥ 0, got ${String(groupLength)}`, {
      details: { groupLength },
    });
  }
  // The 1e-9 keeps exact halves (α·N/2 = k + 0.5) from rounding down after float error in α·N.
  return Math.floor((fraction * groupLength) / 2 + 0.5 + 1e-9);
}
