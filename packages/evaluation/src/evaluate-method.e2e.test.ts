import { createNodeBackend } from '@qaq/backend-node';
import { loadLanguageModel } from '@qaq/runtime';
import { describe, expect, it } from 'vitest';
import { evaluateMethods } from './evaluate-method.js';
import { readBook, readSmollm2, smollm2Present } from './model-files.test-utils.js';
import { evaluatePasskey } from './passkey-evaluation.js';

describe.runIf(smollm2Present())('evaluation on SmolLM2-135M (real model, held-out book)', () => {
  const { gguf, tokenizer } = readSmollm2();
  const book = readBook('chesterton-thursday');
  const session = { executionProviders: ['cpu'], intraOpThreads: 1 };

  it('fp32 against fp32 is exact; uniform:8 is close; the bit-width map shows the 8-bit cache', async () => {
    const tokens = tokenizer.encode(book.slice(2000, 4000), { addSpecialTokens: true }).slice(0, 192);
    expect(tokens.length).toBe(192);
    const { records, bitWidthMaps } = await evaluateMethods({
      backend: createNodeBackend(),
      gguf,
      methods: ['fp32', 'uniform:8'],
      tokens,
      context: 128,
      modelName: 'smollm2-135m',
      textName: 'chesterton-thursday',
      session,
      bitWidthMaps: true,
      peakResidentBytes: () => 1,
    });
    const [fp32, uniform] = records;
    expect(fp32?.kl_mean).toBe(0);
    expect(fp32?.kl_p99).toBe(0);
    expect(fp32?.top1_agreement).toBe(1);
    expect(fp32?.ppl).toBe(fp32?.ppl_reference);
    expect(fp32?.bits_per_element).toBe(32);
    expect(fp32?.scored_tokens).toBe(191);
    expect(fp32?.windows).toBe(2);
    // Real text: a 135M model's perplexity on a novel is in the tens, not 1 and not the vocabulary size.
    expect(fp32?.ppl).toBeGreaterThan(3);
    expect(fp32?.ppl).toBeLessThan(200);
    expect(uniform?.ppl_reference).toBe(fp32?.ppl_reference);
    expect(uniform?.kl_mean).toBeGreaterThan(0);
    expect(uniform?.kl_mean).toBeLessThan(0.01);
    expect(uniform?.top1_agreement).toBeGreaterThan(0.95);
    expect(Math.abs((uniform?.ppl ?? 0) / (uniform?.ppl_reference ?? 1) - 1)).toBeLessThan(0.02);
    // 8-bit codes + fp16 min and step + 4-bit tag + slot index per 64-element group: 8.8125 bits.
    expect(uniform?.bits_per_element).toBeCloseTo(8.8125, 3);
    // Memory is averaged over the last 128 decode steps of each window (here every scored step): windows [0, 128)
    // and [64, 192) hold 2..128 and 65..128 tokens after their scored steps.
    const sampledTokens = [...Array.from({ length: 127 }, (_, step) => step + 2), ...Array.from({ length: 64 }, (_, step) => step + 65)];
    const meanTokens = sampledTokens.reduce((sum, count) => sum + count, 0) / sampledTokens.length;
    expect(uniform?.kv_bytes_fp16).toBe(Math.round(meanTokens * 30 * 2 * 3 * 64 * 2));
    expect(uniform?.compression_ratio).toBeCloseTo(16 / 8.8125, 3);
    expect(uniform?.decode_tokens_per_s).toBeGreaterThan(0);
    expect(uniform?.peak_rss_bytes).toBe(1);
    expect(bitWidthMaps[0]).toBeNull();
    const map = bitWidthMaps[1];
    expect(map?.layers.length).toBe(30);
    expect(map?.tokens).toBe(128);
    for (const layer of map?.layers ?? []) {
      expect(layer.keys.length).toBe(128);
      expect(layer.first_position).toBe(0);
      expect(new Set([...layer.keys, ...layer.values])).toEqual(new Set([8]));
    }
  }, 600_000);

  const heavy = process.env['QAQ_HEAVY_TESTS'] === '1';

  it.runIf(heavy)('keys-only 2-bit quantization keeps values at fp16 and hurts more than values-only (paper Fig. 2a)', async () => {
    const tokens = tokenizer.encode(book.slice(2000, 4000), { addSpecialTokens: true }).slice(0, 96);
    const { records, bitWidthMaps } = await evaluateMethods({
      backend: createNodeBackend(),
      gguf,
      methods: ['uniform:2,part=keys', 'uniform:2,part=values'],
      tokens,
      context: 96,
      modelName: 'smollm2-135m',
      session,
      bitWidthMaps: true,
    });
    const [keys, values] = records;
    expect(keys?.method).toBe('uniform:2,part=keys');
    expect(keys?.bits_per_element).toBeCloseTo((2.8125 + 16.8125) / 2, 3);
    expect(values?.bits_per_element).toBeCloseTo((2.8125 + 16.8125) / 2, 3);
    expect(new Set(bitWidthMaps[0]?.layers[3]?.keys)).toEqual(new Set([2]));
    expect(new Set(bitWidthMaps[0]?.layers[3]?.values)).toEqual(new Set([16]));
    expect(keys?.kl_mean).toBeGreaterThan(values?.kl_mean ?? Infinity);
  }, 600_000);

  it.runIf(heavy)('retrieves a pass key from 256 tokens of book text with the fp32 cache', async () => {
    const { model } = await loadLanguageModel({ backend: createNodeBackend(), gguf, kv: 'fp32', session });
    try {
      const fillerTokens = tokenizer.encode(book.slice(2000, 12_000), { addSpecialTokens: false });
      const result = await evaluatePasskey({ model, tokenizer, fillerTokens, lengths: [256], depths: [0.5], trials: 2 });
      expect(result.trials.length).toBe(2);
      for (const trial of result.trials) expect(trial.answer).toBe(trial.passkey);
    } finally {
      await model.dispose();
    }
  }, 600_000);
});
