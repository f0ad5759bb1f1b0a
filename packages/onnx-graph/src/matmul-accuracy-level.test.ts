import { describe, expect, it } from 'vitest';
import { QaqError } from '@qaq/errors';
import { readGguf } from '@qaq/gguf';
import { buildDecoderModel } from './build-decoder.js';
import { buildDecoderSegments } from './build-segments.js';
import { readModelOperators } from './onnx/read-model-operators.js';
import { DecoderRunner } from './testing/decoder-runner.test-utils.js';
import { modelAvailable, readModelBytes } from './testing/model-files.test-utils.js';
import { readOracle } from './testing/oracle.test-utils.js';
import { checkMatMulNBitsAccuracyLevel } from './weight-format.js';

/**
 * Accuracy level 4 quantizes each 32-element block of the activations to int8 before the product, so logits move.
 * Measured on SmolLM2 (onnxruntime-node 1.30 CPU, the 3 oracle prompts, all 52 prefill positions, full vocabulary):
 * max |Δlogit| / max |logit| 0.091, max |Δ log-softmax| 1.61 (on rare tokens; the top-1 flipped at 2 positions whose
 * level-0 top-2 gap was 0.030 and 0.040). The bounds leave ~1.5× margin; a real bug (e.g. the unfixed llama Q/K
 * permutation) gives relative error 0.84 and log-softmax error 15.
 */
const MAX_LOG_SOFTMAX_DIFFERENCE = 2.5;
const MAX_RELATIVE_DIFFERENCE = 0.15;
/** Top-1 must be equal unless level 0's own top two logits are closer than this (measured flips: gaps 0.030, 0.040). */
const TIE_MARGIN = 0.1;

function accuracyLevels(model: Uint8Array): number[] {
  return readModelOperators(model)
    .nodes.filter((node) => node.opType === 'MatMulNBits')
    .map((node) => node.intAttributes['accuracy_level']!);
}

describe('MatMulNBits accuracy level', () => {
  it('accepts 0–4 and rejects anything else with a QaqError', () => {
    for (const level of [0, 1, 2, 3, 4]) expect(checkMatMulNBitsAccuracyLevel(level)).toBe(level);
    for (const level of [5, -1, 1.5, '4', undefined]) {
      expect(() => checkMatMulNBitsAccuracyLevel(level)).toThrow(QaqError);
      try {
        checkMatMulNBitsAccuracyLevel(level);
      } catch (error) {
        expect((error as QaqError).code).toBe('invalid-accuracy-level');
      }
    }
  });

  it.runIf(modelAvailable('smollm2'))('is written on every MatMulNBits node of the monolithic and segmented graphs', () => {
    const bytes = readModelBytes('smollm2');
    const file = readGguf(bytes);
    const byDefault = accuracyLevels(buildDecoderModel(file, bytes, { lastLogitsOnly: true }).model);
    expect(byDefault.length).toBeGreaterThan(30 * 4);
    expect(new Set(byDefault)).toEqual(new Set([0]));
    const levelFour = accuracyLevels(buildDecoderModel(file, bytes, { lastLogitsOnly: true, matMulNBitsAccuracyLevel: 4 }).model);
    expect(levelFour.length).toBe(byDefault.length);
    expect(new Set(levelFour)).toEqual(new Set([4]));
    const segments = buildDecoderSegments(file, bytes, { lastLogitsOnly: true, matMulNBitsAccuracyLevel: 4 }).segments;
    const segmentLevels = segments.flatMap((segment) => accuracyLevels(segment.model));
    expect(segmentLevels.length).toBe(byDefault.length);
    expect(new Set(segmentLevels)).toEqual(new Set([4]));
    expect(() => buildDecoderModel(file, bytes, { matMulNBitsAccuracyLevel: 7 as 4 })).toThrow(QaqError);
  });

  it.runIf(modelAvailable('smollm2'))('level 4 keeps SmolLM2 logits close to level 0 and the top-1 token equal', async () => {
    const bytes = readModelBytes('smollm2');
    const file = readGguf(bytes);
    const oracle = readOracle('smollm2');
    const levelZero = buildDecoderModel(file, bytes);
    const levelFour = buildDecoderModel(file, bytes, { matMulNBitsAccuracyLevel: 4 });
    const vocab = levelZero.config.vocabSize;
    const exact = await DecoderRunner.create(levelZero.model, levelZero.config);
    const fast = await DecoderRunner.create(levelFour.model, levelFour.config);
    let worst = { relative: 0, logSoftmax: 0, smallestTopGap: Infinity };
    try {
      for (const testCase of oracle.cases) {
        exact.reset();
        fast.reset();
        const exactLogits = await exact.run(testCase.tokenIds);
        const fastLogits = await fast.run(testCase.tokenIds);
        for (let position = 0; position < testCase.tokenIds.length; position++) {
          const row = (logits: Float32Array): Float32Array => logits.subarray(position * vocab, (position + 1) * vocab);
          const difference = compareLogits(row(exactLogits), row(fastLogits));
          if (difference.topGap >= TIE_MARGIN) {
            expect(difference.top1Fast, `top-1 at position ${position}`).toBe(difference.top1Exact);
          }
          worst = {
            relative: Math.max(worst.relative, difference.relative),
            logSoftmax: Math.max(worst.logSoftmax, difference.logSoftmax),
            smallestTopGap: Math.min(worst.smallestTopGap, difference.topGap),
          };
        }
      }
    } finally {
      await exact.release();
      await fast.release();
    }
    console.log(
      `accuracy level 4 vs 0 (SmolLM2, ${oracle.cases.length} prompts, prefill): max relative ${worst.relative.toExponential(2)}, ` +
        `max log-softmax ${worst.logSoftmax.toExponential(2)}, smallest level-0 top-2 gap ${worst.smallestTopGap.toFixed(3)}`,
    );
    expect(worst.logSoftmax).toBeLessThan(MAX_LOG_SOFTMAX_DIFFERENCE);
    expect(worst.relative).toBeLessThan(MAX_RELATIVE_DIFFERENCE);
    // Not vacuous: int8 activations must change the logits at least a little.
    expect(worst.relative).toBeGreaterThan(0);
  }, 180_000);
});

interface LogitsDifference {
  readonly top1Exact: number;
  readonly top1Fast: number;
  /** Level 0's top-1 minus its top-2 logit. */
  readonly topGap: number;
  /** max |fast − exact| / max |exact| over the vocabulary. */
  readonly relative: number;
  /** max |log-softmax(fast) − log-softmax(exact)| over the vocabulary. */
  readonly logSoftmax: number;
}

function compareLogits(exact: Float32Array, fast: Float32Array): LogitsDifference {
  const summary = (logits: Float32Array): { top1: number; second: number; logSumExp: number } => {
    let top1 = 0;
    let second = -Infinity;
    for (let index = 1; index < logits.length; index++) {
      if (logits[index]! > logits[top1]!) {
        second = logits[top1]!;
        top1 = index;
      } else if (logits[index]! > second) second = logits[index]!;
    }
    const max = logits[top1]!;
    let sum = 0;
    for (const value of logits) sum += Math.exp(value - max);
    return { top1, second, logSumExp: max + Math.log(sum) };
  };
  const a = summary(exact);
  const b = summary(fast);
  let largest = 0;
  let absolute = 0;
  let logSoftmax = 0;
  for (let index = 0; index < exact.length; index++) {
    largest = Math.max(largest, Math.abs(exact[index]!));
    absolute = Math.max(absolute, Math.abs(fast[index]! - exact[index]!));
    logSoftmax = Math.max(logSoftmax, Math.abs(fast[index]! - b.logSumExp - (exact[index]! - a.logSumExp)));
  }
  return { top1Exact: a.top1, top1Fast: b.top1, topGap: exact[a.top1]! - a.second, relative: absolute / largest, logSoftmax };
}
