import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dominates, paretoFront, type ParetoPoint } from './pareto-front.js';

const coordinate = fc.oneof(fc.integer({ min: 0, max: 6 }).map((value) => value / 2), fc.double({ min: 0, max: 16, noNaN: true }));
const points = fc.array(fc.record({ x: coordinate, y: coordinate }), { maxLength: 40 });
const identity = (point: ParetoPoint): ParetoPoint => point;

describe('paretoFront', () => {
  it('keeps exactly the undominated points (checked against the quadratic definition)', () => {
    fc.assert(
      fc.property(points, (items) => {
        const front = new Set(paretoFront(items, identity));
        for (const item of items) {
          const dominated = items.some((other) => dominates(other, item));
          expect(front.has(item)).toBe(!dominated);
        }
      }),
    );
  });

  it('returns the front sorted by x with y never rising', () => {
    fc.assert(
      fc.property(points, (items) => {
        const front = paretoFront(items, identity);
        for (let index = 1; index < front.length; index++) {
          expect(front[index]!.x).toBeGreaterThanOrEqual(front[index - 1]!.x);
          expect(front[index]!.y).toBeLessThanOrEqual(front[index - 1]!.y);
        }
      }),
    );
  });

  it('does not depend on the input order', () => {
    fc.assert(
      fc.property(points, fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })), (items, randomness) => {
        const shuffled = items
          .map((item) => ({ item, key: randomness.next().value }))
          .sort((a, b) => a.key - b.key)
          .map(({ item }) => item);
        expect(new Set(paretoFront(shuffled, identity))).toEqual(new Set(paretoFront(items, identity)));
      }),
    );
  });

  it('leaves out points with a non-finite coordinate and keeps equal points together', () => {
    const equal = { x: 1, y: 1 };
    const copy = { x: 1, y: 1 };
    const dominated = { x: 2, y: 1 };
    const unplaced = { x: Number.NaN, y: 0 };
    expect(paretoFront([dominated, equal, unplaced, copy, { x: 0.5, y: Number.POSITIVE_INFINITY }], identity)).toEqual([equal, copy]);
  });
});
