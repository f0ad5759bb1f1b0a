import { describe, expect, it } from 'vitest';
import { createAttention } from '@qaq/attention-kernel';
import { createNodeBackend } from '@qaq/backend-node';
import { loadLanguageModel, type LoadLanguageModelOptions } from './load-language-model.js';
import { argmax, bookTokens, logitError, modelPresent, readModel } from './model-files.test-utils.js';

const backend = createNodeBackend();
const session = { intraOpThreads: 1 };

interface Comparison {
  /** Largest relative logit error of each candidate against the WebAssembly kernel path, over all steps. */
  readonly relative: number[];
  /** Share of steps whose greedy token equals the kernel path's. */
  readonly agreement: number[];
  readonly bitsPerElement: number[];
}

/**
 * The same KV method through the WebAssembly kernel (the reference) and through each candidate strategy, all
 * teacher-forced on the kernel path's greedy continuation of a Moby-Dick prompt; every step's logits compared.
 */
async function compareStrategies(
  kv: string,
  promptLength: number,
  steps: number,
  candidates: readonly Partial<LoadLanguageModelOptions>[],
): Promise<Comparison> {
  const gguf = readModel('smollm2');
  const prompt = bookTokens(gguf, 'melville-moby_dick', promptLength);
  const reference = await loadLanguageModel({ backend, gguf, kv, session, prefillChunkSize: 32 });
  const others = [];
  for (const extra of candidates) others.push(await loadLanguageModel({ backend, gguf, kv, session, prefillChunkSize: 32, ...extra }));
  try {
    let expected = await reference.model.forward(prompt);
    let actual = await Promise.all(others.map((other) => other.model.forward(prompt)));
    const relative = others.map(() => 0);
    const agreed = others.map(() => 0);
    for (let step = 0; ; step++) {
      const next = argmax(expected);
      actual.forEach((logits, index) => {
        relative[index] = Math.max(relative[index] as number, logitError(logits, expected).relative);
        if (argmax(logits) === next) agreed[index] = (agreed[index] as number) + 1;
      });
      if (step === steps) break;
      expected = await reference.model.forward(Int32Array.of(next));
      actual = [];
      for (const other of others) actual.push(await other.model.forward(Int32Array.of(next)));
    }
    return {
      relative,
      agreement: agreed.map((count) => count / (steps + 1)),
      bitsPerElement: [reference, ...others].map((loaded) => loaded.model.memory().bitsPerElement),
    };
  } finally {
    await reference.model.dispose();
    for (const other of others) await other.model.dispose();
  }
}

describe.runIf(modelPresent('smollm2'))("attention: 'graph' on SmolLM2-135M (CPU EP) against the WebAssembly kernel", () => {
  it('qaq with an fp16 recent window and outliers: same greedy tokens, same memory within 0.1 %', async () => {
    const result = await compareStrategies('qaq:alpha=0.05,recent=16', 48, 6, [{ attention: 'graph' }]);
    console.log('qaq:alpha=0.05,recent=16', result);
    expect(result.agreement[0]).toBe(1);
    expect(result.relative[0]).toBeLessThan(5e-2);
    const [kernelBits, graphBits] = result.bitsPerElement as [number, number];
    expect(Math.abs(graphBits - kernelBits) / kernelBits).toBeLessThan(1e-3);
  });
});

// Slower (a few minutes on 2 cores): QAQ_HEAVY_TESTS=1.
describe.runIf(modelPresent('smollm2') && process.env['QAQ_HEAVY_TESTS'] === '1')("attention: 'graph' on SmolLM2-135M, longer runs", () => {
  it('fp16 cache: the same logits up to fp32 accumulation order (chunked prefill, then decode)', async () => {
    const result = await compareStrategies('fp16', 48, 6, [{ attention: 'graph' }]);
    console.log('fp16', result);
    expect(result.relative[0]).toBeLessThan(1e-3);
    expect(result.agreement[0]).toBe(1);
  });

  it('uniform:4 with outliers: as close to the kernel as the float64 JS kernel is (re-quantization amplifies 1e-6 differences)', async () => {
    const result = await compareStrategies('uniform:4,alpha=0.05', 80, 8, [{ attention: 'graph' }, { kernel: await createAttention({ preferJs: true }) }]);
    console.log('uniform:4,alpha=0.05 [graph, js kernel]', result);
    const [graph, javascript] = result.relative as [number, number];
    expect(graph).toBeLessThan(3 * Math.max(javascript, 1e-3));
    expect(result.agreement[0]).toBeGreaterThanOrEqual(result.agreement[1] as number);
  });

  it('qaq over 24 decode steps: same greedy tokens, same memory within 0.1 %', async () => {
    const result = await compareStrategies('qaq:alpha=0.05,recent=16', 80, 24, [{ attention: 'graph' }]);
    console.log('qaq:alpha=0.05,recent=16, 24 steps', result);
    expect(result.agreement[0]).toBe(1);
    expect(result.relative[0]).toBeLessThan(5e-2);
    const [kernelBits, graphBits] = result.bitsPerElement as [number, number];
    expect(Math.abs(graphBits - kernelBits) / kernelBits).toBeLessThan(1e-3);
  });
});
