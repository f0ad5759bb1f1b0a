import { readFile } from 'node:fs/promises';
import { createNodeBackend } from '@qaq/backend-node';
import { loadDecoder } from '@qaq/runtime';
import { argmax, type BenchEngine } from './bench-engine.js';

export interface QaqEngineOptions {
  readonly modelPath: string;
  readonly threads: number;
  /** Tokens per forward() during prefill. */
  readonly prefillChunk: number;
}

/** Our runtime: GGUF → ONNX decoder (MatMulNBits) → onnxruntime-node CPU EP, fp32 KV cache (DenseKeyValueStore). */
export async function createQaqEngine(options: QaqEngineOptions): Promise<BenchEngine> {
  const gguf = new Uint8Array(await readFile(options.modelPath));
  const { model } = await loadDecoder({
    backend: createNodeBackend(),
    gguf,
    session: { executionProviders: ['cpu'], intraOpThreads: options.threads },
  });
  return {
    settings: { threads: options.threads, kvCache: 'fp32', prefillChunk: options.prefillChunk, provider: model.provider },
    async prefill(tokens) {
      for (let start = 0; start < tokens.length; start += options.prefillChunk) {
        await model.forward(tokens.subarray(start, start + options.prefillChunk));
      }
    },
    async decodeStep(token) {
      return argmax(await model.forward(Int32Array.of(token)));
    },
    async reset() {
      model.reset();
    },
    async dispose() {
      await model.dispose();
    },
  };
}
