import { getLlama, LlamaLogLevel, type Token } from 'node-llama-cpp';
import type { BenchEngine } from './bench-engine.js';

export interface LlamaEngineOptions {
  readonly modelPath: string;
  readonly threads: number;
  /** Context window to allocate (prefill + decode tokens). */
  readonly contextSize: number;
  readonly batchSize: number;
}

/**
 * llama.cpp through node-llama-cpp's prebuilt CPU binaries (`build: 'never'`: nothing is downloaded or compiled),
 * f16 KV cache, flash attention left on llama.cpp's automatic choice.
 */
export async function createLlamaEngine(options: LlamaEngineOptions): Promise<BenchEngine> {
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    usePrebuiltBinaries: true,
    skipDownload: true,
    progressLogs: false,
    maxThreads: options.threads,
    logLevel: LlamaLogLevel.error,
  });
  const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: options.contextSize,
    batchSize: options.batchSize,
    threads: { ideal: options.threads, min: options.threads },
    experimentalKvCacheKeyType: 'F16',
    experimentalKvCacheValueType: 'F16',
  });
  const sequence = context.getSequence();
  const toTokens = (ids: ArrayLike<number>): Token[] => Array.from(ids, (id) => id as Token);
  return {
    settings: {
      threads: options.threads,
      kvCache: 'f16',
      batchSize: options.batchSize,
      flashAttention: context.flashAttention,
      build: `${llama.buildType} ${llama.cmakeOptions['GGML_NATIVE'] ?? ''}`.trim(),
    },
    async prefill(tokens) {
      await sequence.evaluateWithoutGeneratingNewTokens(toTokens(tokens));
    },
    async decodeStep(token) {
      // One evaluation, greedy: the generator evaluates `token`, yields the argmax, and is closed before it would
      // evaluate that one too.
      const generator = sequence.evaluate([token as Token], { temperature: 0 });
      const next = await generator.next();
      await generator.return(undefined);
      if (next.done === true) throw new Error('llama.cpp produced no token');
      return next.value;
    },
    async reset() {
      await sequence.clearHistory();
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}
