import { describe, expect, it } from 'vitest';
import { defaultPlanSpecs, parsePlanEntry, splitMethods } from './kv-memory-plan.js';

describe('parsePlanEntry', () => {
  it('reads a model with contexts and no methods of its own', () => {
    expect(parsePlanEntry('smollm2-135m=2048,8192')).toEqual({ model: 'smollm2-135m', contexts: [2048, 8192], methods: null });
  });

  it('reads methods after a slash, keeping commas inside a method', () => {
    expect(parsePlanEntry('gemma3-270m=32768/fp32  qaq:sk=0.003,sv=0.01')).toEqual({
      model: 'gemma3-270m',
      contexts: [32768],
      methods: ['fp32', 'qaq:sk=0.003,sv=0.01'],
    });
  });

  it('rejects a missing model, a bad context and an empty method list', () => {
    expect(() => parsePlanEntry('2048')).toThrow(/<model>=<contexts>/);
    expect(() => parsePlanEntry('smollm2-135m=2k')).toThrow(/integer/);
    expect(() => parsePlanEntry('smollm2-135m=1')).toThrow(/integer/);
    expect(() => parsePlanEntry('smollm2-135m=2048/ ')).toThrow(/no method/);
  });
});

describe('splitMethods', () => {
  it('splits on any whitespace and drops blanks', () => {
    expect(splitMethods(' fp32\tfp16  kivi:2 ')).toEqual(['fp32', 'fp16', 'kivi:2']);
  });
});

describe('defaultPlanSpecs', () => {
  it("covers issue #4's contexts: SmolLM2 at 2k and 8k, Gemma 3 at 8k and at 32k with QAQ and KIVI-2", () => {
    const plan = defaultPlanSpecs.map(parsePlanEntry);
    expect(plan.find((entry) => entry.model === 'smollm2-135m')?.contexts).toEqual([2048, 8192]);
    const gemma = plan.filter((entry) => entry.model === 'gemma3-270m');
    expect(gemma.flatMap((entry) => entry.contexts)).toEqual([8192, 32768]);
    expect(gemma.find((entry) => entry.contexts.includes(32768))?.methods).toEqual(['qaq', 'kivi:2']);
  });
});
