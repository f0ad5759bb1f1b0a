import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { OnlineQueryNormQuantile } from './online-query-norms.js';
import { CalibratedQueryNorms } from './query-norms.js';

function exactQuantile(values: number[], quantile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = quantile * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return (sorted[low] as number) + (rank - low) * ((sorted[high] as number) - (sorted[low] as number));
}

describe('OnlineQueryNormQuantile', () => {
  it('estimates the 0.9 quantile of squared scaled norms per KV head, with the GQA head mapping', () => {
    const queryHeads = 4;
    const kvHeads = 2;
    const headDim = 8;
    const scoreScale = 1 / Math.sqrt(headDim);
    const estimator = new OnlineQueryNormQuantile({ layers: 1, kvHeads, queryHeads, headDim, scoreScale });
    const perKvHead: number[][] = [[], []];
    let state = 12345;
    const uniform = (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    const step = new Float32Array(queryHeads * headDim);
    for (let index = 0; index < 3000; index += 1) {
      for (let head = 0; head < queryHeads; head += 1) {
        // KV head 1's query heads have 3× larger queries.
        const magnitude = head >= 2 ? 3 : 1;
        let sum = 0;
        for (let element = 0; element < headDim; element += 1) {
          const value = Math.fround((uniform() * 2 - 1) * magnitude);
          step[head * headDim + element] = value;
          sum += value * value;
        }
        perKvHead[head >= 2 ? 1 : 0]?.push(sum * scoreScale * scoreScale);
      }
      estimator.observe(0, step);
    }
    for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
      const exact = exactQuantile(perKvHead[kvHead] as number[], 0.9);
      expect(Math.abs(estimator.squaredScaledNorm(0, kvHead) - exact) / exact).toBeLessThan(0.03);
      expect(estimator.observationCount(0, kvHead)).toBe(6000);
    }
    const table = CalibratedQueryNorms.fromJSON(JSON.stringify(estimator.toTable()));
    expect(table.squaredScaledNorm(0, 1)).toBeCloseTo(estimator.squaredScaledNorm(0, 1), 12);
  });

  it('refuses to answer before any query and rejects NaN queries unchanged', () => {
    const estimator = new OnlineQueryNormQuantile({ layers: 1, kvHeads: 1, queryHeads: 1, headDim: 2, scoreScale: 0.5 });
    expect(() => estimator.squaredScaledNorm(0, 0)).toThrow(/no query/);
    expect(() => estimator.observe(0, new Float32Array([1, Number.NaN]))).toThrow(/NaN/);
    expect(() => estimator.observe(0, new Float32Array([1, 2, 3]))).toThrow(/queries must be/);
    expect(estimator.observationCount(0, 0)).toBe(0);
    estimator.observe(0, new Float32Array([2, 0]));
    expect(estimator.squaredScaledNorm(0, 0)).toBe(1);
    expect(() => new OnlineQueryNormQuantile({ layers: 1, kvHeads: 2, queryHeads: 3, headDim: 2, scoreScale: 1 })).toThrow();
  });
});

describe('CalibratedQueryNorms', () => {
  const table = {
    format: 'qaq-query-norms' as const,
    version: 1 as const,
    quantile: 0.9,
    scoreScale: 0.125,
    layers: 2,
    kvHeads: 2,
    values: [
      [1.5, 2.5],
      [3.5, 4.5],
    ],
  };

  it('round-trips through JSON', () => {
    const norms = CalibratedQueryNorms.fromJSON(JSON.stringify(table));
    expect(norms.squaredScaledNorm(1, 0)).toBe(3.5);
    expect(norms.toJSON()).toEqual(table);
  });

  it('rejects malformed tables with invalid-query-norms', () => {
    const bad: unknown[] = [
      'not json',
      { ...table, version: 2 },
      { ...table, quantile: 1 },
      { ...table, scoreScale: 0 },
      { ...table, values: [[1, 2]] },
      { ...table, values: [[1, 2], [3, -1]] },
      { ...table, values: [[1, 2], [3, Number.NaN]] },
    ];
    for (const input of bad) {
      try {
        CalibratedQueryNorms.fromJSON(input);
        expect.unreachable('should throw');
      } catch (error) {
        expect(isQaqError(error, 'invalid-query-norms')).toBe(true);
      }
    }
    const norms = new CalibratedQueryNorms(table);
    expect(() => norms.squaredScaledNorm(2, 0)).toThrow(/out of range/);
  });
});
