import { describe, expect, it } from 'vitest';
import { readGguf } from '@qaq/gguf';
import { buildDecoderModel } from './build-decoder.js';
import { DecoderRunner } from './testing/decoder-runner.test-utils.js';
import { readModelBytes, type ModelName } from './testing/model-files.test-utils.js';
import { comparePosition, readOracle } from './testing/oracle.test-utils.js';

const name = (process.env['SMOKE_MODEL'] ?? 'smollm2') as ModelName;
const format = (process.env['SMOKE_FORMAT'] ?? 'nbits') as 'nbits' | 'fp32';
describe('smoke', () => {
  it('compares ' + name, async () => {
    const bytes = readModelBytes(name);
    const file = readGguf(bytes);
    let start = performance.now();
    const built = buildDecoderModel(file, bytes, { weightFormat: format });
    console.log('build ms', performance.now() - start, 'bytes', built.model.length);
    start = performance.now();
    const runner = await DecoderRunner.create(built.model, built.config);
    console.log('session ms', performance.now() - start);
    const oracle = readOracle(name);
    const vocab = built.config.vocabSize;
    for (const testCase of oracle.cases) {
      runner.reset();
      const logits = await runner.run(testCase.tokenIds);
      const rows = testCase.positions.map((reference, position) =>
        comparePosition(logits.subarray(position * vocab, (position + 1) * vocab), reference, oracle.subsetIds),
      );
      const mismatches = rows.filter((row) => row.top1 !== row.expectedTop1).length;
      console.log(testCase.prompt.slice(0, 20), 'prefill mismatches', mismatches,
        'rel', Math.max(...rows.map((r) => r.relativeError)), 'lsm', Math.max(...rows.map((r) => r.logSoftmaxError)));
      runner.reset();
      const stepRows = [];
      for (let position = 0; position < testCase.tokenIds.length; position++) {
        const step = await runner.run([testCase.tokenIds[position]!]);
        stepRows.push(comparePosition(step, testCase.positions[position]!, oracle.subsetIds));
      }
      console.log('  decode mismatches', stepRows.filter((row) => row.top1 !== row.expectedTop1).length,
        'rel', Math.max(...stepRows.map((r) => r.relativeError)), 'lsm', Math.max(...stepRows.map((r) => r.logSoftmaxError)));
    }
    expect(true).toBe(true);
  });
});
