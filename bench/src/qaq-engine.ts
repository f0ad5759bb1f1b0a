import { readFile } from 'node:fs/promises';
import { createNodeBackend, type NodeSessionOptions } from '@qaq/backend-node';
import { createNodeAttention } from '@qaq/attention-kernel/node-threads';
import { loadLanguageModel, parseKvMethod, usesAttentionKernel, type RuntimeLanguageModel } from '@qaq/runtime';
import { argmax, type BenchEngine } from './bench-engine.js';

export interface QaqEngineOptions {
  readonly modelPath: string;
  readonly threads: number;
  /** Tokens per forward() during prefill. */
  readonly prefillChunk: number;
  /** The runtime's KV method (default 'fp32': the dense in-graph path). */
  readonly kv: string;
  /** onnxruntime's intra-op spinning; undefined: the backend's default. */
  readonly allowSpinning: boolean | undefined;
  /** Stop spinning when a run returns (with allowSpinning); undefined: the backend's default. */
  readonly stopSpinningAfterRun?: boolean | undefined;
  /** onnxruntime's CPU memory arena; undefined: the backend's default (on). */
  readonly cpuMemArena?: boolean | undefined;
  /** Threads of the compact-cache attention kernel; above 1, the shared-memory threaded kernel. Default 1. */
  readonly attentionThreads?: number;
  /** Polls of the threaded kernel's idle workers before they sleep (KernelThreadsOptions.spinPolls); default 0. */
  readonly attentionSpinPolls?: number;
}

/** Our engine, with the runtime's model exposed for readouts (KV memory) between steps. */
export interface QaqEngine extends BenchEngine {
  readonly model: RuntimeLanguageModel;
}

/** Our runtime: GGUF → ONNX decoder (MatMulNBits) → onnxruntime-node CPU EP, KV cache per `kv`. */
export async function createQaqEngine(options: QaqEngineOptions): Promise<QaqEngine> {
  const gguf = new Uint8Array(await readFile(options.modelPath));
  const session: NodeSessionOptions = {
    executionProviders: ['cpu'],
    intraOpThreads: options.threads,
    ...(options.allowSpinning === undefined ? {} : { allowSpinning: options.allowSpinning }),
    ...(options.stopSpinningAfterRun === undefined ? {} : { stopSpinningAfterRun: options.stopSpinningAfterRun }),
    ...(options.cpuMemArena === undefined ? {} : { enableCpuMemArena: options.cpuMemArena }),
  };
  const attentionThreads = options.attentionThreads ?? 1;
  const kernel = usesAttentionKernel(parseKvMethod(options.kv)) && attentionThreads > 1 ? { kernel: await createNodeAttention({ threads: attentionThreads, spinPolls: options.attentionSpinPolls ?? 0 }) } : {};
  const { model, methodName } = await loadLanguageModel({
    backend: createNodeBackend(),
    gguf,
    kv: options.kv,
    session,
    prefillChunkSize: options.prefillChunk,
    ...kernel,
  });
  return {
    model,
    settings: {
      threads: options.threads,
      kvCache: methodName,
      prefillChunk: options.prefillChunk,
      provider: model.provider,
      allowSpinning: options.allowSpinning === undefined ? 'default' : options.allowSpinning,
      ...(options.stopSpinningAfterRun === undefined ? {} : { stopSpinningAfterRun: options.stopSpinningAfterRun }),
      attentionThreads,
      ...(options.attentionSpinPolls === undefined ? {} : { attentionSpinPolls: options.attentionSpinPolls }),
    },
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
