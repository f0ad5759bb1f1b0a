import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultStride, planEvaluationWindows } from './evaluation-windows.js';

const plans = fc
  .record({ tokenCount: fc.integer({ min: 2, max: 5000 }), context: fc.integer({ min: 2, max: 700 }) })
  .chain(({ tokenCount, context }) => fc.record({ tokenCount: fc.constant(tokenCount), context: fc.constant(context), stride: fc.integer({ min: 1, max: context - 1 }) }));

describe('planEvaluationWindows', () => {
  it('scores every position 1..n−1 exactly once, in order, each window with a prefix and at most context tokens', () => {
    fc.assert(
      fc.property(plans, ({ tokenCount, context, stride }) => {
        const windows = planEvaluationWindows(tokenCount, context, stride);
        // Plain checks collected per window, one assertion at the end (thousands of windows per run).
        const problems: string[] = [];
        let next = 1;
        windows.forEach((window, index) => {
          if (window.scoredFrom !== next) problems.push(`${index}: scoredFrom ${window.scoredFrom} ≠ ${next}`);
          if (window.scoredFrom <= window.start) problems.push(`${index}: no prefix`);
          if (window.end <= window.scoredFrom) problems.push(`${index}: nothing scored`);
          if (window.end - window.start !== Math.min(context, tokenCount)) problems.push(`${index}: length ${window.end - window.start}`);
          if (index > 0 && window.end - window.scoredFrom > stride) problems.push(`${index}: scores more than the stride`);
          if (index > 0 && window.scoredFrom - window.start < context - stride) problems.push(`${index}: prefix shorter than context − stride`);
          next = window.end;
        });
        expect(problems).toEqual([]);
        expect(next).toBe(tokenCount);
      }),
    );
  });

  it('advances by the stride: 10 tokens, context 4, stride 2', () => {
    expect(planEvaluationWindows(10, 4, 2)).toEqual([
      { start: 0, scoredFrom: 1, end: 4 },
      { start: 2, scoredFrom: 4, end: 6 },
      { start: 4, scoredFrom: 6, end: 8 },
      { start: 6, scoredFrom: 8, end: 10 },
    ]);
    // The last window moves back so it still holds `context` tokens.
    expect(planEvaluationWindows(9, 4, 2).at(-1)).toEqual({ start: 5, scoredFrom: 8, end: 9 });
    expect(planEvaluationWindows(3, 8)).toEqual([{ start: 0, scoredFrom: 1, end: 3 }]);
    expect(defaultStride(2048)).toBe(1024);
  });

  it('rejects a stride that leaves no prefix and too few tokens', () => {
    expect(() => planEvaluationWindows(100, 8, 8)).toThrow(/stride/);
    expect(() => planEvaluationWindows(100, 8, 0)).toThrow(/stride/);
    expect(() => planEvaluationWindows(1, 8, 4)).toThrow(/at least 2 tokens/);
    expect(() => planEvaluationWindows(100, 1, 1)).toThrow(/context/);
  });
});
