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

/** `--matmul-accuracy <0–4>`: MatMulNBits accuracy level of the 4-bit weights (4 = int8 activations, faster on CPU). */
export const matMulAccuracyHelp = '  --matmul-accuracy <0-4> MatMulNBits accuracy level (default 0 = fp32; 4 = int8 activations, faster on CPU)\n';

export function matMulAccuracyOption(value: string | undefined): { matMulNBitsAccuracyLevel?: 0 | 1 | 2 | 3 | 4 } {
  const level = numberOption('matmul-accuracy', value, { minimum: 0, maximum: 4, integer: true });
  return level === undefined ? {} : { matMulNBitsAccuracyLevel: level as 0 | 1 | 2 | 3 | 4 };
}

/** `--attention-threads <1–16>`: threads of the compact-cache attention kernel (Node worker threads; default 1). */
export const attentionThreadsHelp =
  '  --attention-threads <n> threads of the QAQ attention kernel (default 1; 2 helps at ≥ 1k tokens when a core is idle)\n';

export function attentionThreadsOption(value: string | undefined): { attentionThreads?: number } {
  const threads = numberOption('attention-threads', value, { minimum: 1, maximum: 16, integer: true });
  return threads === undefined ? {} : { attentionThreads: threads };
}
