import { availableParallelism } from 'node:os';
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

/**
 * `--attention-threads <1–16|auto>`: threads of the compact-cache attention kernel (Node worker threads). Default
 * `auto`: the machine's available parallelism, at most 4. The kernel runs between onnxruntime's segment calls, so
 * its threads use cores onnxruntime leaves idle; calls under 1,024 visible tokens stay on one thread.
 */
export const attentionThreadsHelp =
  '  --attention-threads <n|auto> threads of the QAQ attention kernel (default auto = available cores, at most 4; 1 on a busy machine)\n';

/** The `auto` thread count: available parallelism, capped at 4 (more threads split a layer's tokens too finely). */
export function automaticAttentionThreads(availableParallelism: number): number {
  return Math.max(1, Math.min(4, Math.floor(availableParallelism)));
}

export function attentionThreadsOption(value: string | undefined, parallelism: number = availableParallelism()): { attentionThreads: number } {
  if (value === undefined || value === 'auto') return { attentionThreads: automaticAttentionThreads(parallelism) };
  const threads = numberOption('attention-threads', value, { minimum: 1, maximum: 16, integer: true }) as number;
  return { attentionThreads: threads };
}
