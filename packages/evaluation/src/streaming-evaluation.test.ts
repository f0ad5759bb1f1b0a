import type { KeyValueMemory, RuntimeLanguageModel } from '@qaq/runtime';
import { describe, expect, it } from 'vitest';
import { planEvaluationWindows } from './evaluation-windows.js';
import { MetricAccumulator } from './metric-accumulator.js';
import { compareNextToken, referenceDistribution } from './next-token-comparison.js';
import { evaluateStreaming } from './streaming-evaluation.js';

const vocabularySize = 11;

/** Logits of a small deterministic "model": a function of the last token and of how many tokens it has seen. */
function toyLogits(lastToken: number, seen: number, scale: number): Float32Array {
  return Float32Array.from({ length: vocabularySize }, (_, token) => scale * Math.sin(token * (1 + lastToken) + 0.37 * seen));
}

/** A RuntimeLanguageModel whose logits follow `toyLogits`; it records every call. */
class ToyModel implements RuntimeLanguageModel {
  readonly vocabularySize = vocabularySize;
  readonly contextLength = 4096;
  readonly provider = 'toy';
  readonly calls: string[] = [];
  #seen = 0;
  #logits: Float32Array = new Float32Array(vocabularySize);
  constructor(readonly scale: number) {}
  get tokenCount(): number {
    return this.#seen;
  }
  async forward(tokens: Int32Array): Promise<Float32Array> {
    this.calls.push(tokens.length === 1 ? `t${tokens[0]}` : `p${Array.from(tokens).join(',')}`);
    this.#seen += tokens.length;
    this.#logits = toyLogits(tokens[tokens.length - 1] as number, this.#seen, this.scale);
    return this.#logits;
  }
  reset(): void {
    this.calls.push('reset');
    this.#seen = 0;
  }
  memory(): KeyValueMemory {
    const elements = this.#seen * 4;
    return { bytes: elements, slackBytes: 0, fp16Bytes: 2 * elements, elements, bitsPerElement: 8 };
  }
  async dispose(): Promise<void> {}
}

const tokens = Int32Array.from({ length: 23 }, (_, index) => (index * 7 + 3) % vocabularySize);

describe('evaluateStreaming', () => {
  it('gives KL 0, equal perplexities and full agreement for an identical model', async () => {
    const result = await evaluateStreaming({ reference: new ToyModel(3), methods: [new ToyModel(3)], tokens, context: 8, stride: 3 });
    const [method] = result.methods;
    expect(method?.metrics.klMean).toBe(0);
    expect(method?.metrics.klMax).toBe(0);
    expect(method?.metrics.perplexity).toBe(method?.metrics.referencePerplexity);
    expect(method?.metrics.topOneAgreement).toBe(1);
    expect(method?.metrics.scoredTokens).toBe(tokens.length - 1);
  });

  it('resets per window, prefills the prefix, feeds scored tokens one by one and scores the right positions', async () => {
    const reference = new ToyModel(3);
    const method = new ToyModel(2);
    const context = 8;
    const stride = 3;
    const progress: number[] = [];
    const result = await evaluateStreaming({ reference, methods: [method], tokens, context, stride, onProgress: (step) => progress.push(step.scoredTokens) });
    const windows = planEvaluationWindows(tokens.length, context, stride);
    expect(result.windows).toEqual(windows);
    const expectedMethodCalls: string[] = [];
    const expectedReferenceCalls: string[] = [];
    const expected = new MetricAccumulator();
    for (const window of windows) {
      const prefix = tokens.subarray(window.start, window.scoredFrom);
      for (const calls of [expectedMethodCalls, expectedReferenceCalls]) calls.push('reset', prefix.length === 1 ? `t${prefix[0]}` : `p${Array.from(prefix).join(',')}`);
      for (let position = window.scoredFrom; position < window.end; position++) {
        expectedMethodCalls.push(`t${tokens[position]}`);
        if (position + 1 < window.end) expectedReferenceCalls.push(`t${tokens[position]}`);
        // The logits predicting `position` come after feeding tokens [start, position).
        const seen = position - window.start;
        const last = tokens[position - 1] as number;
        expected.add(compareNextToken(referenceDistribution(toyLogits(last, seen, 3)), toyLogits(last, seen, 2), tokens[position] as number, new Float64Array(vocabularySize)));
      }
    }
    expect(method.calls).toEqual(expectedMethodCalls);
    expect(reference.calls).toEqual(expectedReferenceCalls);
    const summary = result.methods[0]?.metrics;
    const want = expected.summary();
    expect(summary?.klMean).toBeCloseTo(want.klMean, 12);
    expect(summary?.klMean).toBeGreaterThan(0);
    expect(summary?.perplexity).toBeCloseTo(want.perplexity, 10);
    expect(summary?.referencePerplexity).toBeCloseTo(want.referencePerplexity, 10);
    expect(summary?.topOneAgreement).toBe(want.topOneAgreement);
    expect(progress).toEqual(Array.from({ length: tokens.length - 1 }, (_, index) => index + 1));
    // Memory is sampled after each of the last memorySampleSteps (128) decode steps of a window: here every scored
    // step, with tokens fed since the window's start × 4 elements.
    const sampledElements = windows.flatMap((window) => Array.from({ length: window.end - window.scoredFrom }, (_, step) => (window.scoredFrom - window.start + step + 1) * 4));
    const meanElements = sampledElements.reduce((sum, value) => sum + value, 0) / sampledElements.length;
    expect(result.methods[0]?.memory).toEqual({ bytes: meanElements, fp16Bytes: 2 * meanElements, elements: meanElements, bitsPerElement: 8, peakBitsPerElement: 8, policyBytes: 0, samples: tokens.length - 1 });
    expect(result.methods[0]?.decodeSteps).toBe(tokens.length - 1);
  });

  it('averages memory over the last memorySampleSteps decode steps of each window and keeps the peak', async () => {
    const context = 8;
    const stride = 3;
    const windows = planEvaluationWindows(tokens.length, context, stride);
    // One sample per window, with the whole window cached: context tokens × 4 elements.
    const last = await evaluateStreaming({ reference: new ToyModel(3), methods: [new ToyModel(2)], tokens, context, stride, memorySampleSteps: 1 });
    expect(last.methods[0]?.memory).toEqual({ bytes: 32, fp16Bytes: 64, elements: 32, bitsPerElement: 8, peakBitsPerElement: 8, policyBytes: 0, samples: windows.length });
    // A cache whose size cycles (bits 4, 6, 4, 6, … per step): the mean of the sampled steps, and their largest.
    class CyclingModel extends ToyModel {
      #steps = 0;
      override memory(): KeyValueMemory {
        this.#steps++;
        const bitsPerElement = this.#steps % 2 === 0 ? 6 : 4;
        return { bytes: 4, slackBytes: 0, fp16Bytes: 8, elements: 4, bitsPerElement };
      }
    }
    const cycling = await evaluateStreaming({ reference: new ToyModel(3), methods: [new CyclingModel(2)], tokens, context, stride, memorySampleSteps: 2 });
    expect(cycling.methods[0]?.memory).toMatchObject({ bitsPerElement: 5, peakBitsPerElement: 6, samples: 2 * windows.length });
    await expect(evaluateStreaming({ reference: new ToyModel(3), methods: [new ToyModel(2)], tokens, context, memorySampleSteps: 0 })).rejects.toThrow(/memorySampleSteps/);
  });

  it('runs several methods in lockstep with results identical to running each alone', async () => {
    const together = await evaluateStreaming({ reference: new ToyModel(3), methods: [new ToyModel(2), new ToyModel(3.5)], tokens, context: 6 });
    const alone = await evaluateStreaming({ reference: new ToyModel(3), methods: [new ToyModel(3.5)], tokens, context: 6 });
    expect(together.methods[1]?.metrics).toEqual(alone.methods[0]?.metrics);
  });

  it('rejects a shared instance, a context beyond the model and an aborted signal', async () => {
    const model = new ToyModel(1);
    await expect(evaluateStreaming({ reference: model, methods: [model], tokens, context: 8 })).rejects.toThrow(/separate model instances/);
    await expect(evaluateStreaming({ reference: new ToyModel(1), methods: [new ToyModel(1)], tokens, context: 5000 })).rejects.toThrow(/context window/);
    const controller = new AbortController();
    controller.abort();
    await expect(evaluateStreaming({ reference: new ToyModel(1), methods: [new ToyModel(1)], tokens, context: 8, signal: controller.signal })).rejects.toThrow(/aborted/);
  });
});
