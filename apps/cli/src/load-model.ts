import { readFile } from 'node:fs/promises';
import { createNodeAttention } from '@qaq/attention-kernel/node-threads';
import { createNodeBackend } from '@qaq/backend-node';
import { createStderrProgressReporter, defaultModelId, resolveModel } from '@qaq/models';
import { loadLanguageModel, usesAttentionKernel, type KvMethod, type LoadedLanguageModel, type LoadLanguageModelOptions } from '@qaq/runtime';
import { createTokenizer, tokenizerSourceFromGgufMetadata, type Tokenizer } from '@qaq/tokenizer';

export interface LoadedTextModel extends LoadedLanguageModel {
  readonly tokenizer: Tokenizer;
  readonly modelPath: string;
}

/**
 * Resolves a model reference (fetching it when missing), builds its graph (fp32: one dense graph; any other KV
 * method: one graph per layer segment around the compact cache) and tokenizer, and opens CPU sessions.
 */
export interface TextModelOptions {
  /** MatMulNBits `accuracy_level` of the 4-bit weights (`--matmul-accuracy`; default 0). */
  readonly matMulNBitsAccuracyLevel?: LoadLanguageModelOptions['matMulNBitsAccuracyLevel'];
  /** Threads of the compact-cache attention kernel (the CLI passes `--attention-threads`, default auto; absent here: 1). */
  readonly attentionThreads?: number;
}

/**
 * The threaded attention kernel for `kv` when it attends in the kernel and `threads` > 1; undefined otherwise
 * (the runtime's single-thread kernel, or a method without one). The model that gets it disposes it.
 */
export async function attentionKernelFor(kv: KvMethod, threads: number): Promise<LoadLanguageModelOptions['kernel']> {
  return usesAttentionKernel(kv) && threads > 1 ? await createNodeAttention({ threads }) : undefined;
}

/** attentionKernelFor as a loadLanguageModel option: `{ kernel }`, or nothing. */
export async function kernelOption(kv: KvMethod, threads: number): Promise<Pick<LoadLanguageModelOptions, 'kernel'>> {
  const kernel = await attentionKernelFor(kv, threads);
  return kernel === undefined ? {} : { kernel };
}

export async function loadTextModel(
  reference: string | undefined,
  kv: KvMethod,
  log: (line: string) => void,
  options: TextModelOptions = {},
): Promise<LoadedTextModel> {
  const resolved = await resolveModel(reference ?? defaultModelId, { onProgress: createStderrProgressReporter() });
  const gguf = new Uint8Array(await readFile(resolved.path));
  const backend = createNodeBackend();
  const loaded = await loadLanguageModel({
    backend,
    gguf,
    kv,
    session: { executionProviders: ['cpu'] },
    ...(options.matMulNBitsAccuracyLevel === undefined ? {} : { matMulNBitsAccuracyLevel: options.matMulNBitsAccuracyLevel }),
    ...(await kernelOption(kv, options.attentionThreads ?? 1)),
    onStage: (stage, milliseconds) => log(`${stage} done after ${(milliseconds / 1000).toFixed(1)} s`),
  });
  const tokenizer = createTokenizer(tokenizerSourceFromGgufMetadata(loaded.file.metadata));
  return { ...loaded, tokenizer, modelPath: resolved.path };
}
