// The compact-cache attention graph on onnxruntime-web's WebAssembly provider (backend-web, in Node) against the
// float64 reference, with the cache's fp16 arrays fed as stored (float16) and widened (float32, the WebGPU path
// for devices without shader-f16). The WebGPU run of the same checks is browser-tests/ (pnpm test:browser).
import { beforeAll, describe, expect, it } from 'vitest';
import { createWebBackend, type WebBackend } from '@qaq/backend-web';
import { GraphAttentionKernel } from '@qaq/runtime';
import { COMPARISON_CASES, compareWithReference } from './graph-attention-comparison.js';

/** Output: relative to max(1, |reference|); probabilities: absolute. fp32 arithmetic vs float64 (measured ~1e-6). */
const OUTPUT_TOLERANCE = 2e-5;
const PROBABILITY_TOLERANCE = 2e-6;

describe('GraphAttentionKernel on backend-web wasm (onnxruntime-web in Node) against referenceAttentionMulti', () => {
  let backend: WebBackend;

  beforeAll(async () => {
    backend = await createWebBackend({ providers: ['wasm'], numThreads: 1 });
  });

  for (const halfPrecisionInputs of ['float16', 'float32'] as const) {
    it(`fp16 arrays fed as ${halfPrecisionInputs}: every case within ${OUTPUT_TOLERANCE} / ${PROBABILITY_TOLERANCE}`, async () => {
      const kernel = new GraphAttentionKernel({ backend, session: { executionProviders: ['wasm'] }, halfPrecisionInputs });
      expect(kernel.halfPrecisionInputs).toBe(halfPrecisionInputs);
      const widths = { keys: new Set<number>(), values: new Set<number>() };
      // Stored fp16 bits are the long-standing path (also checked on onnxruntime-node): two cases suffice there.
      for (const testCase of halfPrecisionInputs === 'float16' ? COMPARISON_CASES.slice(0, 2) : COMPARISON_CASES) {
        const result = await compareWithReference(kernel, testCase, 0);
        console.info(`[wasm, ${halfPrecisionInputs}] ${result.name}: output ${result.outputError.toExponential(1)}, probabilities ${result.probabilityError.toExponential(1)}`);
        expect(result.outputError, result.name).toBeLessThan(OUTPUT_TOLERANCE);
        expect(result.probabilityError, result.name).toBeLessThan(PROBABILITY_TOLERANCE);
        expect(result.maskedNonZero, result.name).toBe(0);
        result.keyWidths.forEach((bits) => widths.keys.add(bits));
        result.valueWidths.forEach((bits) => widths.values.add(bits));
      }
      // The float32 path widened fp16 arrays into its buffers; the float16 path holds none.
      if (halfPrecisionInputs === 'float32') expect(kernel.wideningBytes).toBeGreaterThan(0);
      else expect(kernel.wideningBytes).toBe(0);
      // Every width and the fp16 window took part, for keys and values.
      if (halfPrecisionInputs === 'float32') expect([...widths.keys].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 16]);
      if (halfPrecisionInputs === 'float32') expect([...widths.values].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 16]);
      await kernel.dispose();
    });
  }

  it("'auto' feeds float16 on a backend without a WebGPU adapter", () => {
    expect(backend.adapter).toBeUndefined();
    expect(new GraphAttentionKernel({ backend }).halfPrecisionInputs).toBe('float16');
  });
});
