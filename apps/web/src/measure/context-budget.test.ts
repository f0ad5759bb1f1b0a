import { describe, expect, it } from 'vitest';
import type { MeasurePoint, MeasureResult } from './measure-types.js';
import { fitBudget } from './context-budget.js';

function point(contextTokens: number, bytes: number): MeasurePoint {
  const elements = contextTokens * 100;
  return { contextTokens, bytes, slackBytes: 0, fp16Bytes: 2 * elements, elements, bitsPerElement: (8 * bytes) / elements, elapsedMilliseconds: 0 };
}

function result(kvMethod: string, points: MeasurePoint[], error: string | null = null): MeasureResult {
  return { kvMethod, provider: 'wasm', contextLimit: 8192, loadMilliseconds: 0, points, decode: null, error, userAgent: '' };
}

describe('fitBudget', () => {
  it('extrapolates the measured bytes per token beyond the largest context, and marks it', () => {
    const [fp16, qaq] = fitBudget([result('fp16', [point(100, 20_000), point(200, 40_000)]), result('qaq', [point(200, 8_000)])], 1_000_000);
    expect(fp16).toMatchObject({ measuredContext: 200, bytesPerToken: 200, fittingContext: 5000, extrapolated: true, ratioToFp16: 1 });
    expect(qaq).toMatchObject({ bytesPerToken: 40, fittingContext: 25_000, extrapolated: true, ratioToFp16: 5 });
  });

  it('takes the last checkpoint within the budget when the largest context exceeds it', () => {
    const [fit] = fitBudget([result('fp16', [point(100, 500), point(200, 1000), point(400, 2000)])], 1500);
    expect(fit).toMatchObject({ fittingContext: 200, extrapolated: false });
  });

  it('reports a method that did not run', () => {
    const [fit] = fitBudget([result('ort-int4', [], 'kv-method-unavailable: not yet')], 1e9);
    expect(fit).toMatchObject({ fittingContext: 0, error: 'kv-method-unavailable: not yet', ratioToFp16: null });
  });
});
