import { QaqError } from '@qaq/errors';

/**
 * One evaluation window: tokens [start, end) are in the cache by its end; the targets at positions
 * [scoredFrom, end) are scored. Tokens [start, scoredFrom) are the unscored prefix (prefilled).
 */
export interface EvaluationWindow {
  readonly start: number;
  readonly scoredFrom: number;
  readonly end: number;
}

/** stride = ⌊context / 2⌋ unless given. */
export function defaultStride(context: number): number {
  return Math.max(1, Math.floor(context / 2));
}

/**
 * Splits `tokenCount` tokens into windows of `context` tokens advanced by `stride`, so that every position
 * 1..tokenCount−1 is scored exactly once: the first window scores everything after its first token; every later
 * window scores the tokens no earlier window reached (at most `stride`, the last `stride` of the window) after a
 * prefix of at least context − stride tokens. The last window is moved back to end at the last token, so every
 * window holds exactly `context` tokens when tokenCount ≥ context (a text shorter than that is one window).
 */
export function planEvaluationWindows(tokenCount: number, context: number, stride = defaultStride(context)): EvaluationWindow[] {
  if (!Number.isInteger(tokenCount) || tokenCount < 2) {
    throw new QaqError('invalid-evaluation-windows', 'the evaluation needs at least 2 tokens', { details: { tokenCount } });
  }
  if (!Number.isInteger(context) || context < 2) {
    throw new QaqError('invalid-evaluation-windows', 'context must be an integer ≥ 2', { details: { context } });
  }
  if (!Number.isInteger(stride) || stride < 1 || stride >= context) {
    throw new QaqError('invalid-evaluation-windows', 'stride must be an integer in [1, context − 1] so each window keeps a prefix', {
      details: { stride, context },
    });
  }
  const firstEnd = Math.min(context, tokenCount);
  const windows: EvaluationWindow[] = [{ start: 0, scoredFrom: 1, end: firstEnd }];
  let scoredUpTo = firstEnd;
  for (let index = 1; scoredUpTo < tokenCount; index++) {
    const end = Math.min(index * stride + context, tokenCount);
    const start = end - context;
    windows.push({ start, scoredFrom: scoredUpTo, end });
    scoredUpTo = end;
  }
  return windows;
}
