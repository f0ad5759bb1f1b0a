import { createNodeBackend } from '@qaq/backend-node';
import type { Backend, SessionOptions } from '@qaq/backend-spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExactLayerAttention } from './exact-attention.test-utils.js';
import { loadLanguageModel, loadSegmentedModel, type LoadedLanguageModel } from './load-language-model.js';
import { layerAttentionShape, segmentSessionOptions } from './segmented-language-model.js';
import { argmax, bookTokens, klDivergence, logitError, logSoftmax, modelPresent, readModel } from './model-files.test-utils.js';

const backend = createNodeBackend();
const session = { intraOpThreads: 1 };
const heavy = process.env['QAQ_HEAVY_TESTS'] === '1';

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
    expect(fp16.model.tokenCount).toBe(prompt.length + 12);
    const memory = fp16.model.memory();
    expect(memory.elements).toBe((prompt.length + 12) * 30 * 3 * 64 * 2);
    // fp16 codes plus the honest per-group overhead (fp16 min/half-range, tag, slot index) at D = 64.
    expect(memory.bitsPerElement).toBeGreaterThan(16);
    expect(memory.bitsPerElement).toBeLessThan(17);
  });

  it('segments with exact fp32 attention reproduce the dense graph in prefill, chunked prefill and decode', async () => {
    const tokens = prompt.subarray(0, 40);
    dense.model.reset();
    const reference = Float32Array.from(await dense.model.forward(tokens));
    const exact = await loadSegmentedModel({
      backend,
      gguf,
      session,
      prefillChunkSize: 7,
      createAttention: (config) => new ExactLayerAttention(layerAttentionShape(config)),
    });
    try {
      const chunked = Float32Array.from(await exact.model.forward(tokens)); // chunks 7 × 5 + 5
      exact.model.reset();
      let stepwise: Float32Array = new Float32Array(0);
      for (const token of tokens) stepwise = await exact.model.forward(Int32Array.of(token));
      const chunkError = logitError(chunked, reference);
      const stepError = logitError(stepwise, reference);
      console.info(`exact segments vs dense graph: chunked ${JSON.stringify(chunkError)}, decode ${JSON.stringify(stepError)}`);
      // fp32 accumulation order only (the onnx-graph oracle tolerance is 5e-5).
      expect(chunkError.relative).toBeLessThan(5e-5);
      expect(stepError.relative).toBeLessThan(5e-5);
    } finally {
      await exact.model.dispose();
    }
  });

  it('compact cache: prefill, chunked prefill and token-by-token decode agree within fp16 rounding', async () => {
    const tokens = prompt.subarray(0, 40);
    const chunked = await loadLanguageModel({ backend, gguf, kv: 'fp16', session, prefillChunkSize: 7 });
    try {
      fp16.model.reset();
      const whole = Float32Array.from(await fp16.model.forward(tokens)); // chunks 32 + 8
      const inChunks = Float32Array.from(await chunked.model.forward(tokens));
      chunked.model.reset();
      let stepwise: Float32Array = new Float32Array(0);
      for (const token of tokens) stepwise = await chunked.model.forward(Int32Array.of(token));
      const chunkError = logitError(inChunks, whole);
      const stepError = logitError(stepwise, whole);
      console.info(`fp16 cache, prefill vs chunked ${JSON.stringify(chunkError)}, vs decode ${JSON.stringify(stepError)}`);
      // The graph's K/V differ by fp32 rounding between chunk lengths; the fp16 store rounds some of those to
      // neighbouring fp16 values (2^-11 relative), the same size of effect as fp16 vs fp32 above.
      expect(chunkError.relative).toBeLessThan(2e-3);
      expect(stepError.relative).toBeLessThan(2e-3);
      expect(argmax(stepwise)).toBe(argmax(whole));
      expect(chunked.model.tokenCount).toBe(tokens.length);
    } finally {
      await chunked.model.dispose();
    }
  });

  it('rejects bad input before touching the cache', async () => {
    fp16.model.reset();
    await fp16.model.forward(prompt.subarray(0, 5));
    const before = fp16.model.memory();
    await expect(fp16.model.forward(new Int32Array(0))).rejects.toMatchObject({ code: 'empty-input' });
    await expect(fp16.model.forward(Int32Array.of(1, 49_152))).rejects.toMatchObject({ code: 'invalid-token' });
    await expect(fp16.model.forward(new Int32Array(8_192))).rejects.toMatchObject({ code: 'context-full' });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(fp16.model.forward(Int32Array.of(1), controller.signal)).rejects.toMatchObject({ code: 'aborted' });
    expect(fp16.model.tokenCount).toBe(5);
    expect(fp16.model.memory()).toEqual(before);
  });

  it('QAQ greedy decoding over a real text mostly agrees with fp32 at fewer bits', async () => {
    // A moderate setting (keys tighter than values: keys are the sensitive side, qaq-method.md §2).
    const qaq = await loadLanguageModel({ backend, gguf, kv: 'qaq:sk=0.003,sv=0.01', session, prefillChunkSize: 64 });
    try {
      const steps = heavy ? 200 : 64;
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
      // How close fp32 itself was to choosing otherwise where they first part.
      const divergence = referenceLog[Math.min(prefix, steps - 1)] as Float64Array;
      const sorted = Array.from(divergence).sort((a, b) => b - a);
      const report = {
        method: qaq.methodName,
        steps,
        top1Agreement: agree / steps,
        meanKl: klSum / steps,
        maxKl: klMax,
        freeRunningPrefix: prefix,
        fp32Top2GapAtDivergence: (sorted[0] as number) - (sorted[1] as number),
        bitsPerElement: memory.bitsPerElement,
        kvBytes: memory.bytes,
        fp16Bytes: memory.fp16Bytes,
      };
      console.info(`QAQ vs fp32, SmolLM2, Moby Dick 128-token prompt: ${JSON.stringify(report)}`);
      expect(memory.bitsPerElement).toBeLessThan(16);
      expect(report.top1Agreement).toBeGreaterThan(0.8);
      expect(report.meanKl).toBeLessThan(0.1);
    } finally {
      await qaq.model.dispose();
    }
  });
});

describe.runIf(modelPresent('smollm2'))('loadLanguageModel methods on SmolLM2-135M', () => {
  it('runs kivi:4 through the reference attention and uniform:4 through the kernel, and refuses a bad method clearly', async () => {
    const gguf = readModel('smollm2');
    // Past KIVI's fp16 residual (128) plus one key block (32), so some tokens are quantized.
    const tokens = bookTokens(gguf, 'austen-emma', 170);
    const dense = await loadLanguageModel({ backend, gguf, kv: 'fp32', session });
    const reference = Float32Array.from(await dense.model.forward(tokens));
    await dense.model.dispose();
    for (const kv of ['kivi:4', 'uniform:4']) {
      const loaded = await loadLanguageModel({ backend, gguf, kv, session });
      const logits = await loaded.model.forward(tokens);
      const error = logitError(logits, reference);
      const memory = loaded.model.memory();
      console.info(`${kv} after a 170-token prompt: ${JSON.stringify(error)}, ${memory.bitsPerElement.toFixed(3)} bits/element`);
      expect(memory.elements).toBe(170 * 30 * 3 * 64 * 2);
      expect(memory.bitsPerElement).toBeLessThan(16);
      // Quantization moves logits by ~0.05–0.2 of their range here; a broken attention moves them by ~1.
      expect(error.relative).toBeLessThan(0.5);
      await loaded.model.dispose();
    }
    // ort-int4/ort-int8 run their own GroupQueryAttention graph: ort-quantized-language-model.test.ts.
    await expect(loadLanguageModel({ backend, gguf, kv: 'uniform:12', session })).rejects.toMatchObject({ code: 'invalid-kv-method' });
  });
});

describe.runIf(heavy && modelPresent('gemma3'))('SegmentedLanguageModel on Gemma 3 270M (QAQ_HEAVY_TESTS=1)', () => {
  it('a 600-token prompt: sliding layers evict to window − 1, and fp16 / exact segments match the dense path', async () => {
    const gguf = readModel('gemma3');
    const prompt = bookTokens(gguf, 'austen-emma', 600);
    const dense = await loadLanguageModel({ backend, gguf, kv: 'fp32', session });
    const fp16 = await loadLanguageModel({ backend, gguf, kv: 'fp16', session, prefillChunkSize: 128 });
    const exact = await loadSegmentedModel({
      backend,
      gguf,
      session,
      prefillChunkSize: 256,
      createAttention: (config) => new ExactLayerAttention(layerAttentionShape(config)),
    });
    try {
      let reference = Float32Array.from(await dense.model.forward(prompt));
      let actual = await fp16.model.forward(prompt);
      const exactError = logitError(await exact.model.forward(prompt), reference);
      let worst = logitError(actual, reference);
      for (let step = 0; step < 4; step++) {
        expect(argmax(actual)).toBe(argmax(reference));
        const next = Int32Array.of(argmax(reference));
        reference = Float32Array.from(await dense.model.forward(next));
        actual = await fp16.model.forward(next);
        const error = logitError(actual, reference);
        worst = { relative: Math.max(worst.relative, error.relative), logSoftmax: Math.max(worst.logSoftmax, error.logSoftmax) };
      }
      console.info(`Gemma 3, 600-token prompt: fp16 cache vs dense ${JSON.stringify(worst)}; exact segments vs dense ${JSON.stringify(exactError)}`);
      expect(exactError.relative).toBeLessThan(5e-5);
      expect(worst.relative).toBeLessThan(2e-3);
      const attention = (fp16.model as unknown as { attention: { tokenCount(layer: number): number } }).attention;
      const window = dense.config.slidingWindow as number;
      dense.config.layerKinds.forEach((kind, layer) => {
        expect(attention.tokenCount(layer), `layer ${layer}`).toBe(kind === 'sliding' ? window - 1 : 604);
      });
    } finally {
      await dense.model.dispose();
      await fp16.model.dispose();
      await exact.model.dispose();
    }
  });

  it('QAQ on Gemma agrees with fp32 on a real-text continuation at fewer bits', async () => {
    const gguf = readModel('gemma3');
    const context = bookTokens(gguf, 'melville-moby_dick', 128, 20_000);
    const dense = await loadLanguageModel({ backend, gguf, kv: 'fp32', session });
    const qaq = await loadLanguageModel({ backend, gguf, kv: 'qaq:sk=0.003,sv=0.01', session, prefillChunkSize: 64 });
    try {
      const steps = 100;
      let referenceLogits = await dense.model.forward(context);
      let logits = await qaq.model.forward(context);
      let agree = 0;
      let klSum = 0;
      for (let step = 0; step < steps; step++) {
        const token = argmax(referenceLogits);
        if (argmax(logits) === token) agree += 1;
        klSum += klDivergence(logSoftmax(referenceLogits), logSoftmax(logits));
        referenceLogits = await dense.model.forward(Int32Array.of(token));
        logits = await qaq.model.forward(Int32Array.of(token));
      }
      const memory = qaq.model.memory();
      console.info(`QAQ vs fp32, Gemma 3: ${JSON.stringify({ top1Agreement: agree / steps, meanKl: klSum / steps, bitsPerElement: memory.bitsPerElement })}`);
      expect(memory.bitsPerElement).toBeLessThan(16);
      expect(agree / steps).toBeGreaterThan(0.85);
    } finally {
      await dense.model.dispose();
      await qaq.model.dispose();
    }
  });
});

describe.runIf(modelPresent('smollm2'))('segment sessions', () => {
  it("turn the CPU memory arena off unless the caller's options say otherwise", async () => {
    expect(segmentSessionOptions(undefined)).toEqual({ cpuMemoryArena: false });
    expect(segmentSessionOptions({ intraOpThreads: 1, cpuMemoryArena: true })).toEqual({ intraOpThreads: 1, cpuMemoryArena: true });
    const gguf = readModel('smollm2');
    const received: (SessionOptions | undefined)[] = [];
    const recording: Backend = Object.create(backend, {
      createSession: {
        value: (model: Uint8Array, options?: SessionOptions) => {
          received.push(options);
          return backend.createSession(model, options);
        },
      },
    }) as Backend;
    const loaded = await loadLanguageModel({ backend: recording, gguf, kv: 'uniform:4', session });
    expect(received).toHaveLength(31);
    for (const options of received) expect(options).toEqual({ cpuMemoryArena: false, intraOpThreads: 1 });
    await loaded.model.dispose();
  });
});
