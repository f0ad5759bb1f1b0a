import { isQaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { Sampler } from './sampler.js';

const logits = Float32Array.from([2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -3.0]);

function softmax(values: readonly number[]): number[] {
  const best = Math.max(...values);
  const weights = values.map((value) => Math.exp(value - best));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

function histogram(sampler: Sampler, input: Float32Array, draws: number): number[] {
  const counts = new Array<number>(input.length).fill(0);
  for (let draw = 0; draw < draws; draw++) counts[sampler.sample(input)]!++;
  return counts;
}

/** Pearson chi-square over the expected probabilities; tokens with zero expectation must never appear. */
function chiSquare(
  counts: readonly number[],
  probabilities: readonly number[],
): { statistic: number; degrees: number } {
  const draws = counts.reduce((sum, count) => sum + count, 0);
  let statistic = 0;
  let degrees = -1;
  counts.forEach((count, token) => {
    const expected = probabilities[token]! * draws;
    if (expected === 0) {
      expect(count, `token ${token} is excluded but was sampled`).toBe(0);
      return;
    }
    degrees++;
    statistic += (count - expected) ** 2 / expected;
  });
  return { statistic, degrees };
}

/** Chi-square critical value at p = 0.001 (Wilson–Hilferty approximation). */
function criticalValue(degrees: number): number {
  const z = 3.09;
  const term = 2 / (9 * degrees);
  return degrees * (1 - term + z * Math.sqrt(term)) ** 3;
}

function expectDistribution(counts: readonly number[], probabilities: readonly number[]): void {
  const { statistic, degrees } = chiSquare(counts, probabilities);
  expect(degrees).toBeGreaterThan(0);
  expect(statistic).toBeLessThan(criticalValue(degrees));
}

function renormalise(probabilities: readonly number[], keep: (token: number) => boolean): number[] {
  const kept = probabilities.map((probability, token) => (keep(token) ? probability : 0));
  const total = kept.reduce((sum, probability) => sum + probability, 0);
  return kept.map((probability) => probability / total);
}

describe('Sampler', () => {
  it('is greedy at temperature 0 and skips NaN', () => {
    expect(new Sampler(8).sample(logits)).toBe(0);
    expect(new Sampler(3).sample(Float32Array.from([Number.NaN, 1, 3]))).toBe(2);
  });

  it('follows softmax(logits / T) at temperature T', () => {
    for (const temperature of [1, 0.5, 2]) {
      const sampler = new Sampler(8, { temperature, seed: 11 });
      const expected = softmax(Array.from(logits, (value) => value / temperature));
      expectDistribution(histogram(sampler, logits, 40_000), expected);
    }
  });

  it('detects a wrong distribution (the check can fail)', () => {
    const sampler = new Sampler(8, { temperature: 1, seed: 11 });
    const counts = histogram(sampler, logits, 40_000);
    const { statistic, degrees } = chiSquare(counts, softmax(Array.from(logits, (value) => value / 0.8)));
    expect(statistic).toBeGreaterThan(criticalValue(degrees));
  });

  it('keeps only the top k tokens, renormalised', () => {
    const sampler = new Sampler(8, { temperature: 1, topK: 3, seed: 3 });
    const expected = renormalise(softmax(Array.from(logits)), (token) => token < 3);
    expectDistribution(histogram(sampler, logits, 30_000), expected);
  });

  it('keeps the nucleus for top-p, renormalised', () => {
    const probabilities = softmax(Array.from(logits));
    // Cumulative: 0.405, 0.650, 0.799, 0.889, ... → top-p 0.6 keeps two tokens, 0.7 three.
    expect(probabilities[0]! + probabilities[1]!).toBeGreaterThan(0.6);
    expect(probabilities[0]! + probabilities[1]!).toBeLessThan(0.7);
    for (const [topP, kept] of [
      [0.6, 2],
      [0.7, 3],
    ] as const) {
      const sampler = new Sampler(8, { temperature: 1, topP, seed: 5 });
      expectDistribution(
        histogram(sampler, logits, 30_000),
        renormalise(probabilities, (token) => token < kept),
      );
    }
  });

  it('drops tokens below min-p × the top probability', () => {
    const probabilities = softmax(Array.from(logits));
    const sampler = new Sampler(8, { temperature: 1, minP: 0.3, seed: 9 });
    const keep = (token: number): boolean => probabilities[token]! >= 0.3 * probabilities[0]!;
    expectDistribution(histogram(sampler, logits, 30_000), renormalise(probabilities, keep));
  });

  it('combines top-k and top-p over a large vocabulary without leaving the allowed set', () => {
    const vocabularySize = 50_000;
    const large = new Float32Array(vocabularySize);
    for (let token = 0; token < vocabularySize; token++) large[token] = Math.sin(token * 12.9898) * 4;
    const order = Array.from(large.keys()).sort((a, b) => large[b]! - large[a]!);
    const allowed = new Set(order.slice(0, 40));
    const sampler = new Sampler(vocabularySize, { temperature: 0.8, topK: 40, topP: 0.95, seed: 1 });
    for (let draw = 0; draw < 500; draw++) expect(allowed.has(sampler.sample(large))).toBe(true);
  });

  it('gives the same tokens for the same seed, and reset() replays them', () => {
    const options = { temperature: 1, topK: 5, topP: 0.9, seed: 1234 };
    const first = new Sampler(8, options);
    const second = new Sampler(8, options);
    const sequence = Array.from({ length: 50 }, () => first.sample(logits));
    expect(Array.from({ length: 50 }, () => second.sample(logits))).toEqual(sequence);
    first.reset();
    expect(Array.from({ length: 50 }, () => first.sample(logits))).toEqual(sequence);
    expect(new Set(sequence).size).toBeGreaterThan(1);
  });

  it('penalises recently seen tokens once each', () => {
    const sampler = new Sampler(3, { repetitionPenalty: 2, repetitionWindow: 2 });
    const input = Float32Array.from([3, 2, -1]);
    expect(sampler.sample(input)).toBe(0);
    sampler.observe(0);
    sampler.observe(0); // repeated: still one division, 3 / 2 = 1.5 < 2
    expect(sampler.sample(input)).toBe(1);
    sampler.observe(1);
    sampler.observe(1); // the window (2) forgot token 0; token 1 → 1.0 < 3
    expect(sampler.sample(input)).toBe(0);
  });

  it('rejects bad options and short logits', () => {
    const codeOf = (action: () => unknown): string | undefined => {
      try {
        action();
      } catch (error) {
        return isQaqError(error) ? error.code : 'not-qaq';
      }
      return undefined;
    };
    expect(codeOf(() => new Sampler(8, { topP: 0 }))).toBe('invalid-sampling-options');
    expect(codeOf(() => new Sampler(8, { temperature: -1 }))).toBe('invalid-sampling-options');
    expect(codeOf(() => new Sampler(8, { topK: 1.5 }))).toBe('invalid-sampling-options');
    expect(codeOf(() => new Sampler(0))).toBe('invalid-vocabulary-size');
    expect(codeOf(() => new Sampler(8).sample(new Float32Array(4)))).toBe('logits-too-short');
    expect(codeOf(() => new Sampler(2).sample(Float32Array.from([Number.NaN, -Infinity])))).toBe('invalid-logits');
  });
});
