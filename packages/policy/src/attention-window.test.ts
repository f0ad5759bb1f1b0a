import { isQaqError } from '@qaq/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttentionWindow } from './attention-window.js';

type Operation = { kind: 'observe'; newTokens: number; seed: number } | { kind: 'evict'; count: number };

describe('AttentionWindow', () => {
  it('keeps the maximum over the last n steps, through growth and eviction (vs a naive history)', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('observe' as const), newTokens: fc.integer({ min: 0, max: 4 }), seed: fc.integer() }),
      fc.record({ kind: fc.constant('evict' as const), count: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.array(operation, { maxLength: 40 }), (window, kvHeads, operations: Operation[]) => {
        const subject = new AttentionWindow(1, kvHeads, window, 1);
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
        subject.windowMaxima(0, false, perHead, history.length);
        subject.windowMaxima(0, true, overHeadsBulk, history.length);
        history.forEach((heads, token) => {
          let overHeads = 0;
          heads.forEach((values, head) => {
            const expected = values.slice(-window).reduce((a, b) => Math.max(a, b), 0);
            expect(subject.windowMax(0, head, token)).toBe(expected);
            expect(perHead[token * kvHeads + head]).toBe(expected);
            overHeads = Math.max(overHeads, expected);
          });
          expect(subject.windowMaxOverHeads(0, token)).toBe(overHeads);
          expect(overHeadsBulk[token]).toBe(overHeads);
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
  });
});
