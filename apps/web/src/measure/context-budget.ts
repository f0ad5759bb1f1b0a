import type { MeasureResult } from './measure-types.js';

/** One method's fit into a KV budget, from its largest measured context. */
export interface BudgetFit {
  readonly kvMethod: string;
  readonly provider: string | null;
  /** Largest context reached in the browser (0 when the method did not run). */
  readonly measuredContext: number;
  /** memory().bytes / measuredContext at that context. */
  readonly bytesPerToken: number;
  readonly bitsPerElement: number;
  /** Tokens whose KV fits the budget at the measured rate. */
  readonly fittingContext: number;
  /** True when fittingContext is beyond the measured context (a linear extrapolation of the measured rate). */
  readonly extrapolated: boolean;
  /** fittingContext / the fp16 cache's fittingContext. */
  readonly ratioToFp16: number | null;
  readonly decodeTokensPerSecond: number | null;
  readonly error: string | null;
}

/**
 * The longest context each method fits in `budgetBytes` of KV (memory().bytes, live bytes), from the bytes per token
 * at its largest measured context. Within the measured range the fit is the last checkpoint that fits; beyond it the
 * measured rate is extrapolated linearly and marked so.
 */
export function fitBudget(results: readonly MeasureResult[], budgetBytes: number): BudgetFit[] {
  const fits = results.map((result): Omit<BudgetFit, 'ratioToFp16'> => {
    const last = result.points.at(-1);
    if (last === undefined || last.contextTokens === 0) {
      return {
        kvMethod: result.kvMethod,
        provider: result.provider,
        measuredContext: 0,
        bytesPerToken: Number.NaN,
        bitsPerElement: Number.NaN,
        fittingContext: 0,
        extrapolated: false,
        decodeTokensPerSecond: null,
        error: result.error ?? 'no checkpoint reached',
      };
    }
    const bytesPerToken = last.bytes / last.contextTokens;
    const beyond = last.bytes <= budgetBytes;
    const fittingContext = beyond
      ? Math.floor(budgetBytes / bytesPerToken)
      : Math.max(0, ...result.points.filter((point) => point.bytes <= budgetBytes).map((point) => point.contextTokens));
    return {
      kvMethod: result.kvMethod,
      provider: result.provider,
      measuredContext: last.contextTokens,
      bytesPerToken,
      bitsPerElement: last.bitsPerElement,
      fittingContext,
      extrapolated: beyond && fittingContext > last.contextTokens,
      decodeTokensPerSecond: result.decode?.tokensPerSecond ?? null,
      error: result.error,
    };
  });
  const fp16 = fits.find((fit) => fit.kvMethod === 'fp16' && fit.fittingContext > 0);
  return fits.map((fit) => ({ ...fit, ratioToFp16: fp16 === undefined || fit.fittingContext === 0 ? null : fit.fittingContext / fp16.fittingContext }));
}
