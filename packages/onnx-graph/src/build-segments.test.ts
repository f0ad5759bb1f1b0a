import { describe, expect, it } from 'vitest';
import { readGguf } from '@qaq/gguf';
import { buildDecoderSegments } from './build-segments.js';
import { SegmentRunner } from './testing/segment-runner.test-utils.js';
import { heavyTests, modelAvailable, readModelBytes, type ModelName } from './testing/model-files.test-utils.js';
import { comparePosition, readOracle } from './testing/oracle.test-utils.js';

async function checkSplit(name: ModelName): Promise<void> {
  const bytes = readModelBytes(name);
  const decoder = buildDecoderSegments(readGguf(bytes), bytes);
  expect(decoder.segments.length).toBe(decoder.config.layerCount + 1);
  expect(decoder.segments[1]!.inputs.map((input) => input.name)).toEqual(['hidden.0', 'attention.0', 'position_ids']);
  expect(decoder.segments[1]!.outputs.map((output) => output.name)).toEqual(['hidden.1', 'query.1', 'key.1', 'value.1']);
  const runner = await SegmentRunner.create(decoder);
  const oracle = readOracle(name);
  const testCase = oracle.cases[0]!;
  const vocab = decoder.config.vocabSize;
  try {
    // Prefill all but the last 3 tokens, then decode those one by one: both paths through the caller's attention.
    const split = testCase.tokenIds.length - 3;
    const prefill = await runner.run(testCase.tokenIds.slice(0, split));
    const rows = testCase.positions.slice(0, split).map((reference, position) =>
      comparePosition(prefill.subarray(position * vocab, (position + 1) * vocab), reference, oracle.subsetIds),
    );
    for (let position = split; position < testCase.tokenIds.length; position++) {
      rows.push(comparePosition(await runner.run([testCase.tokenIds[position]!]), testCase.positions[position]!, oracle.subsetIds));
    }
    for (const row of rows) {
      expect(row.top1).toBe(row.expectedTop1);
      expect(row.relativeError).toBeLessThan(5e-5);
      expect(row.logSoftmaxError).toBeLessThan(1e-3);
    }
  } finally {
    await runner.release();
  }
}

describe('split mode: segments plus caller-side attention match transformers', () => {
  it.runIf(modelAvailable('smollm2'))('SmolLM2', async () => {
    await checkSplit('smollm2');
  });
  it.runIf(heavyTests && modelAvailable('gemma3'))('Gemma 3 270M', async () => {
    await checkSplit('gemma3');
  });
});
