import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttentionWindow } from './attention-window.js';
import { storedProbabilityAbsoluteError, storedProbabilityRelativeError } from './stored-probability.js';

type Operation = { kind: 'observe'; newTokens: number; seed: number } | { kind: 'evict'; count: number };

/**
 * Stored probabilities are rounded to 8-bit codes: within storedProbabilityRelativeError of the exact maximum, or
 * within storedProbabilityAbsoluteError (2^-31) of it below, where they read as 0.
 */
function expectStored(actual: number | undefined, exact: number): void {
  expect(Math.abs((actual as number) - exact)).toBeLessThanOrEqual(Math.max(exact * storedProbabilityRelativeError, storedProbabilityAbsoluteError));
}

describe('AttentionWindow', () => {
  it('keeps the maximum over the last n steps, through growth and eviction (vs a naive history)', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('observe' as const), newTokens: fc.integer({ min: 0, max: 4 }), seed: fc.integer() }),
      fc.record({ kind: fc.constant('evict' as const), count: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.array(operation, { maxLength: 40 }), fc.boolean(), (window, kvHeads, operations: Operation[], mergeHeads) => {
        const subject = new AttentionWindow(1, kvHeads, window, 1, { mergeHeads });
        // Naive model: per token, per head, the full list of observed probabilities.
        let history: number[][][] = [];
        for (const op of operations) {
          if (op.kind === 'evict') {
            const count = Math.min(op.count, history.length);
            subject.evictOldest(0, count);
            history = history.slice(count);
            continue;
          }
          const tokenCount = history.length + op.newTokens;
          if (tokenCount === 0) continue;
          while (history.length < tokenCount) history.push(Array.from({ length: kvHeads }, () => []));
          const probabilities = new Float32Array(kvHeads * tokenCount);
          let state = op.seed >>> 0;
          for (let index = 0; index < probabilities.length; index += 1) {
            state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
            probabilities[index] = Math.fround(state / 2 ** 32);
          }
          subject.observe(0, probabilities, tokenCount);
          for (let head = 0; head < kvHeads; head += 1) {
            for (let token = 0; token < tokenCount; token += 1) {
              history[token]?.[head]?.push(probabilities[head * tokenCount + token] as number);
            }
          }
        }
        expect(subject.tokenCount(0)).toBe(history.length);
        // The bulk pass `decide` uses, per head and over heads (a stale sentinel shows anything it leaves unwritten).
        const perHead = new Float32Array(history.length * kvHeads + 1).fill(7);
        const overHeadsBulk = new Float32Array(history.length + 1).fill(7);
        if (mergeHeads) expect(() => subject.windowMaxima(0, false, perHead, history.length)).toThrow(/per-head/);
        else subject.windowMaxima(0, false, perHead, history.length);
        subject.windowMaxima(0, true, overHeadsBulk, history.length);
        expect(overHeadsBulk[history.length]).toBe(7);
        history.forEach((heads, token) => {
          let overHeads = 0;
          heads.forEach((values, head) => {
            const expected = values.slice(-window).reduce((a, b) => Math.max(a, b), 0);
            if (!mergeHeads) {
              expectStored(subject.windowMax(0, head, token), expected);
              expect(perHead[token * kvHeads + head]).toBe(subject.windowMax(0, head, token));
            }
            overHeads = Math.max(overHeads, expected);
          });
          expectStored(subject.windowMaxOverHeads(0, token), overHeads);
          expect(overHeadsBulk[token]).toBe(subject.windowMaxOverHeads(0, token));
          expect(subject.hasFullWindow(0, token)).toBe((heads[0]?.length ?? 0) >= window);
          expect(subject.observationCount(0, token)).toBe(Math.min(window, heads[0]?.length ?? 0));
        });
      }),
    );
  });

  it('rejects bad statistics without changing state', () => {
    const subject = new AttentionWindow(2, 1, 3, 4);
    subject.observe(1, new Float32Array([0.25, 0.75]), 2);
    const expectCode = (call: () => void, code: string): void => {
      try {
        call();
        expect.unreachable('should throw');
      } catch (error) {
        expect(isQaqError(error, code)).toBe(true);
      }
    };
    expectCode(() => subject.observe(1, new Float32Array([0.1, Number.NaN, 0.2]), 3), 'invalid-attention');
    expectCode(() => subject.observe(1, new Float32Array([0.1, 0.2]), 3), 'shape-mismatch');
    expectCode(() => subject.observe(1, new Float32Array([0.1]), 1), 'token-count-mismatch');
    expectCode(() => subject.observe(2, new Float32Array([0.1]), 1), 'invalid-layer');
    expectCode(() => subject.evictOldest(1, 3), 'invalid-eviction');
    expectCode(() => subject.windowMaxima(1, true, new Float32Array(1), 2), 'shape-mismatch');
    expectCode(() => subject.windowMaxima(1, true, new Float32Array(8), 5), 'shape-mismatch');
    expect(subject.tokenCount(1)).toBe(2);
    expect(subject.windowMax(1, 0, 1)).toBe(0.75);
    expect(subject.observationCount(1, 0)).toBe(1);
    const merged = new AttentionWindow(1, 2, 3, 4, { mergeHeads: true });
    merged.observe(0, new Float32Array([0.5, 0.25, 0.125, 0.75]), 2);
    expectCode(() => merged.windowMax(0, 0, 0), 'heads-merged');
    expect(merged.windowMaxOverHeads(0, 0)).toBe(0.5);
    expect(merged.windowMaxOverHeads(0, 1)).toBe(0.75);
  });

  it('stores a probability within 1/16 of itself (2^-31 below 2^-31), −0 as 0, and keeps their order', () => {
    fc.assert(
      fc.property(fc.float({ min: 0, max: 1, noNaN: true }), fc.float({ min: 0, max: 1, noNaN: true }), (first, second) => {
        const subject = new AttentionWindow(1, 2, 1, 1);
        subject.observe(0, new Float32Array([first, second]), 1);
        const storedFirst = subject.windowMax(0, 0, 0);
        const storedSecond = subject.windowMax(0, 1, 0);
        expectStored(storedFirst, Math.abs(first));
        expectStored(storedSecond, Math.abs(second));
        if (first < second) expect(storedFirst).toBeLessThanOrEqual(storedSecond);
      }),
    );
  });

  it('holds 14 bytes per token and layer with ten merged steps of three KV heads', () => {
    const subject = new AttentionWindow(1, 3, 10, 1024, { mergeHeads: true });
    const perHead = new AttentionWindow(1, 3, 10, 1024);
    const fixed = 4 + 8; // token count and step counter of the one layer
    expect((subject.byteLength() - fixed) / 1024).toBe(10 * 1 + 4);
    expect((perHead.byteLength() - fixed) / 1024).toBe(10 * 3 * 1 + 4);
  });
});
