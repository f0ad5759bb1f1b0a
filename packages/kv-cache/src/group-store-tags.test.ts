import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GroupStore } from './group-store.js';

type Operation = { kind: 'append'; bits: number } | { kind: 'demote'; at: number; by: number } | { kind: 'evict'; count: number };

const widths = [1, 2, 3, 4, 5, 6, 7, 8, 16];

describe('GroupStore tags (4 bits, two per byte)', () => {
  it('hold every width through appends, demotions and odd or even evictions, and decode the same groups', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), bits: fc.constantFrom(...widths) }),
      fc.record({ kind: fc.constant('demote' as const), at: fc.nat(), by: fc.integer({ min: 1, max: 7 }) }),
      fc.record({ kind: fc.constant('evict' as const), count: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations: Operation[]) => {
        const groupLength = 8;
        const store = new GroupStore({ groupLength, groupsPerToken: 1, outlierFraction: 0, promotionTier: false, initialCapacityTokens: 2 });
        const expected: number[] = [];
        // Each group's values identify it (value = id + index / 16), so a decode shows which group a slot holds.
        const ids: number[] = [];
        let nextId = 0;
        for (const step of operations) {
          if (step.kind === 'append') {
            const source = Float32Array.from({ length: groupLength }, (_, index) => nextId + index / 16);
            store.appendGroup(source, 0, step.bits, step.bits);
            expected.push(step.bits);
            ids.push(nextId);
            nextId += 1;
          } else if (step.kind === 'demote') {
            if (expected.length === 0) continue;
            const group = step.at % expected.length;
            const current = expected[group] as number;
            const target = widths.filter((bits) => bits < current).at(-Math.min(step.by, widths.indexOf(current)));
            if (target === undefined) continue;
            store.requantize(group, target);
            expected[group] = target;
          } else {
            const count = Math.min(step.count, expected.length);
            store.evictOldestGroups(count);
            expected.splice(0, count);
            ids.splice(0, count);
          }
          store.orderPools();
          store.compactPools();
          expect(Array.from(store.tags())).toEqual(expected);
          for (let group = 0; group < expected.length; group += 1) expect(store.bitsOf(group)).toBe(expected[group]);
        }
        const decoded = new Float32Array(groupLength);
        for (let group = 0; group < expected.length; group += 1) {
          store.decode(group, decoded, 0);
          // Every width keeps the group's mean within its own range: the slot holds this group, not a neighbour's.
          const mean = decoded.reduce((sum, value) => sum + value, 0) / groupLength;
          expect(Math.abs(mean - ((ids[group] as number) + 7 / 32))).toBeLessThanOrEqual(0.5);
        }
      }),
    );
  });
});
