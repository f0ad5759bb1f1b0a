import { createNodeBackend } from '@qaq/backend-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLanguageModel, type LoadedLanguageModel } from './load-language-model.js';
import { argmax, bookTokens, klDivergence, logitError, logSoftmax, modelPresent, readModel } from './model-files.test-utils.js';

const backend = createNodeBackend();
const session = { intraOpThreads: 1 };

describe.runIf(modelPresent('smollm2'))('SegmentedLanguageModel on SmolLM2-135M', () => {
  let gguf: Uint8Array;
  let dense: LoadedLanguageModel;
  let fp16: LoadedLanguageModel;
  let prompt: Int32Array;

  beforeAll(async () => {
    gguf = readModel('smollm2');
    prompt = bookTokens(gguf, 'austen-emma', 96);
    dense = await loadLanguageModel({ backend, gguf, kv: 'fp32', session });
    fp16 = await loadLanguageModel({ backend, gguf, kv: 'fp16', session, prefillChunkSize: 32 });
  });
  afterAll(async () => {
    await dense?.model.dispose();
    await fp16?.model.dispose();
  });

  it('with every token at 16 bits matches the dense fp32 path (chunked prefill, then decode)', async () => {
    dense.model.reset();
    fp16.model.reset();
    let reference = Float32Array.from(await dense.model.forward(prompt));
    let actual = await fp16.model.forward(prompt); // three chunks of 32
    let worst = { relative: 0, logSoftmax: 0 };
    for (let step = 0; step < 12; step++) {
      const error = logitError(actual, reference);
      worst = { relative: Math.max(worst.relative, error.relative), logSoftmax: Math.max(worst.logSoftmax, error.logSoftmax) };
      expect(argmax(actual)).toBe(argmax(reference));
      const next = Int32Array.of(argmax(reference));
      reference = Float32Array.from(await dense.model.forward(next));
      actual = await fp16.model.forward(next);
    }
    console.info(`fp16 cache vs dense fp32, SmolLM2, 96-token prompt + 12 steps: ${JSON.stringify(worst)}`);
    // fp16 rounding of K/V (relative 2^-11 per element) is the only modelling difference.
    expect(worst.relative).toBeLessThan(2e-3);
    expect(worst.logSoftmax).toBeLessThan(2e-2);
    expect(fp16.model.tokenCount).toBe(prompt.length + 11);
    const memory = fp16.model.memory();
    expect(memory.elements).toBe((prompt.length + 11) * 30 * 3 * 64 * 2);
    // fp16 codes plus the honest per-group overhead (fp16 min/half-range, tag, slot index) at D = 64.
    expect(memory.bitsPerElement).toBeGreaterThan(16);
    expect(memory.bitsPerElement).toBeLessThan(17);
  });

  it('prefill, chunked prefill and token-by-token decode agree', async () => {
    const tokens = prompt.subarray(0, 40);
    const chunked = await loadLanguageModel({ backend, gguf, kv: 'fp16', session, prefillChunkSize: 7 });
    try {
      fp16.model.reset();
      chunked.model.reset();
      // fp16 with chunk 32: one call = chunks 32 + 8.
      const whole = Float32Array.from(await fp16.model.forward(tokens));
      const inChunks = Float32Array.from(await chunked.model.forward(tokens));
      chunked.model.reset();
      let stepwise = new Float32Array(0);
      for (const token of tokens) stepwise = await chunked.model.forward(Int32Array.of(token));
      const chunkError = logitError(inChunks, whole);
      const stepError = logitError(stepwise, whole);
      console.info(`prefill vs chunked ${JSON.stringify(chunkError)}, vs decode ${JSON.stringify(stepError)}`);
      expect(chunkError.relative).toBeLessThan(1e-4);
      expect(stepError.relative).toBeLessThan(1e-4);
      expect(argmax(stepwise)).toBe(argmax(whole));
    } finally {
      await chunked.model.dispose();
    }
  });

  it('QAQ greedy decoding over a real text mostly agrees with fp32 at fewer bits', async () => {
    const qaq = await loadLanguageModel({ backend, gguf, kv: 'qaq', session, prefillChunkSize: 64 });
    try {
      const steps = 200;
      const context = bookTokens(gguf, 'melville-moby_dick', 128, 20_000);
      // fp32 greedy continuation, kept as log-probabilities per step.
      dense.model.reset();
      const continuation: number[] = [];
      const referenceLog: Float64Array[] = [];
      let logits = await dense.model.forward(context);
      for (let step = 0; step < steps; step++) {
        referenceLog.push(logSoftmax(logits));
        continuation.push(argmax(logits));
        logits = await dense.model.forward(Int32Array.of(continuation[step] as number));
      }
      // QAQ fed the same tokens (teacher forcing): top-1 agreement and KL(fp32 ‖ QAQ) at every step.
      qaq.model.reset();
      let agree = 0;
      let klSum = 0;
      let klMax = 0;
      logits = await qaq.model.forward(context);
      for (let step = 0; step < steps; step++) {
        if (argmax(logits) === continuation[step]) agree += 1;
        const kl = klDivergence(referenceLog[step] as Float64Array, logSoftmax(logits));
        klSum += kl;
        klMax = Math.max(klMax, kl);
        logits = await qaq.model.forward(Int32Array.of(continuation[step] as number));
      }
      const memory = qaq.model.memory();
      // Free-running QAQ greedy: tokens equal to fp32's before the first divergence.
      qaq.model.reset();
      logits = await qaq.model.forward(context);
      let prefix = 0;
      while (prefix < steps && argmax(logits) === continuation[prefix]) {
        logits = await qaq.model.forward(Int32Array.of(continuation[prefix] as number));
        prefix += 1;
      }
      const report = {
        method: qaq.methodName,
        steps,
        top1Agreement: agree / steps,
        meanKl: klSum / steps,
        maxKl: klMax,
        freeRunningPrefix: prefix,
        bitsPerElement: memory.bitsPerElement,
        kvBytes: memory.bytes,
        fp16Bytes: memory.fp16Bytes,
      };
      console.info(`QAQ vs fp32, SmolLM2, Moby Dick 128-token prompt: ${JSON.stringify(report)}`);
      expect(memory.bitsPerElement).toBeLessThan(16);
      expect(report.top1Agreement).toBeGreaterThan(0.85);
      expect(report.meanKl).toBeLessThan(0.1);
    } finally {
      await qaq.model.dispose();
    }
  });
});
