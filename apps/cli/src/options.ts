import { usageError } from './cli-error.js';

/** Parses a numeric option, naming the flag when it is not a finite number inside [minimum, maximum]. */
export function numberOption(
  flag: string,
  value: string | undefined,
  range: { minimum?: number; maximum?: number; integer?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  const { minimum = -Infinity, maximum = Infinity, integer = false } = range;
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < minimum || parsed > maximum || (integer && !Number.isInteger(parsed))) {
    throw usageError(`--${flag} must be ${integer ? 'an integer' : 'a number'} in [${minimum}, ${maximum}], got "${value}"`, {
      flag,
      value,
    });
  }
  return parsed;
}
