import { keyAllowedStd } from '@qaq/quantization';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { effectiveSigmaScoreMax, resolvePolicyConfig } from './config.js';

const base = { layers: 1, kvHeads: 1, scoreScale: 0.125, sigmaScoreMax: 0.002, sigmaOutputMax: 0.02, minBits: 2, maxBits: 8 };

describe('context-relative σ_S,max (scoreBudgetReferenceTokens)', () => {
  it('is the paper’s absolute budget when off or up to T_ref, and shrinks as T_ref / T beyond', () => {
    expect(effectiveSigmaScoreMax(0.002, 4096, 0)).toBe(0.002);
    expect(effectiveSigmaScoreMax(0.002, 256, 256)).toBe(0.002);
    expect(effectiveSigmaScoreMax(0.002, 100, 256)).toBe(0.002);
    expect(effectiveSigmaScoreMax(0.002, 1024, 256)).toBeCloseTo(0.0005, 12);
  });

  it('keeps the allowed key error of T_ref at every longer context, where the absolute budget lets it grow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 4096 }), fc.integer({ min: 1, max: 1 << 16 }), fc.double({ min: 0.01, max: 100, noNaN: true }), (reference, extra, norm) => {
        const tokens = reference + extra;
        const atReference = keyAllowedStd(0.002, reference, norm);
        const relative = keyAllowedStd(effectiveSigmaScoreMax(0.002, tokens, reference), tokens, norm);
        const absolute = keyAllowedStd(0.002, tokens, norm);
        // T³/(T−1)·(σ·T_ref/T)² = T/(T−1)·σ²·T_ref²: the value at T_ref up to T/(T−1) vs T_ref/(T_ref−1).
        expect(relative).toBeLessThanOrEqual(atReference * (1 + 1e-9));
        expect(relative).toBeGreaterThanOrEqual(atReference * 0.98);
        expect(absolute).toBeGreaterThan(relative);
      }),
    );
  });

  it('validates T_ref', () => {
    expect(resolvePolicyConfig(base).scoreBudgetReferenceTokens).toBe(0);
    expect(resolvePolicyConfig({ ...base, scoreBudgetReferenceTokens: 512 }).scoreBudgetReferenceTokens).toBe(512);
    expect(() => resolvePolicyConfig({ ...base, scoreBudgetReferenceTokens: 1.5 })).toThrow(/scoreBudgetReferenceTokens/);
    expect(() => resolvePolicyConfig({ ...base, scoreBudgetReferenceTokens: -1 })).toThrow(/scoreBudgetReferenceTokens/);
  });
});
