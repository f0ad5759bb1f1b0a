import { describe, expect, it } from 'vitest';
import { symmetricLogTicks } from './pareto-plot.js';

describe('symmetricLogTicks', () => {
  it('covers the losses with 0 and powers of ten on each side that has values', () => {
    expect(symmetricLogTicks([0.37, 0.002])).toEqual([0, 0.01, 0.1, 1]);
    expect(symmetricLogTicks([-0.05, 20])).toEqual([-0.1, -0.01, 0, 0.01, 0.1, 1, 10, 100]);
    expect(symmetricLogTicks([0, Number.NaN])).toEqual([0]);
  });
});
