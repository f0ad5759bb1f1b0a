import { openSync, readSync, closeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readFixtureBytes, realModelPath, realModels } from './fixtures.test-utils.js';
import { makeSeed, runFuzz, type FuzzSeed } from './fuzz.test-utils.js';
import { readGguf } from './read-gguf.js';

const heavy = process.env['QAQ_HEAVY_TESTS'] === '1';

/** The first `length` bytes of a file: enough for a header without reading the weights. */
function readPrefix(path: string, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  const descriptor = openSync(path, 'r');
  try {
    return bytes.subarray(0, readSync(descriptor, bytes, 0, length, 0));
  } finally {
    closeSync(descriptor);
  }
}

// Seeds: the real headers of both models (metadata and tensor infos byte for byte, metadata arrays cut
// to 64 elements, see scripts/make-fixtures.py) and a complete small file with tensor data.
const seeds: readonly FuzzSeed[] = [
  makeSeed('smollm2 header', readFixtureBytes('smollm2-seed.gguf'), false),
  makeSeed('gemma3 header', readFixtureBytes('gemma3-seed.gguf'), false),
  makeSeed('synthetic file', readFixtureBytes('synthetic.gguf'), true),
];

function expectClean(cases: number, seedValue: number): void {
  const report = runFuzz(seeds, cases, seedValue);
  console.info(`gguf fuzz: ${JSON.stringify({ ...report, failures: report.failures.length })}`);
  expect(report.failures.slice(0, 5)).toEqual([]);
  expect(report.cases).toBe(cases);
  // A hang detector, not a benchmark: one header parse takes well under a millisecond.
  expect(report.slowestCaseMs).toBeLessThan(2000);
  expect(report.largestRetainedRatio).toBeLessThan(16);
  expect(report.parsed).toBeGreaterThan(0);
  expect(report.errorsByCode['corrupt-gguf'] ?? 0).toBeGreaterThan(cases / 4);
}

describe('readGguf under fuzzing', () => {
  it('the seeds parse (with headerOnly where they carry no data)', () => {
    expect(runFuzz(seeds, 0, 1).failures).toEqual([]);
  });

  it('5,000 mutated and truncated headers: only typed QaqErrors or valid parses', () => {
    expectClean(5_000, 20_261_128);
  });

  it.runIf(heavy)('100,000 mutated and truncated headers (heavy)', () => {
    expectClean(100_000, 1_128_2026);
  });

  for (const model of realModels) {
    const path = heavy ? realModelPath(model.path) : undefined;
    it.runIf(path !== undefined)(`400 mutations of the full ${model.id} header, 8 MiB prefix (heavy)`, () => {
      const prefix = readPrefix(path as string, 8 * 1024 * 1024);
      const dataOffset = readGguf(prefix, { headerOnly: true }).dataOffset;
      const seed = makeSeed(`${model.id} prefix`, prefix.subarray(0, dataOffset), false);
      const report = runFuzz([seed], 400, 7);
      console.info(`gguf fuzz ${model.id} prefix: ${JSON.stringify({ ...report, failures: report.failures.length })}`);
      expect(report.failures.slice(0, 5)).toEqual([]);
      expect(report.largestRetainedRatio).toBeLessThan(16);
    }, 300_000);
  }
});
