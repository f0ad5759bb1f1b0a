import type { GenerationResult } from '@qaq/generation';
import type { KeyValueMemory } from '@qaq/runtime';

/** The `--json` object of `generate` (a stable contract: scripts rely on these keys). */
export interface GenerateReport {
  readonly text: string;
  readonly prompt_tokens: number;
  readonly generated_tokens: number;
  readonly finish_reason: string;
  readonly prefill_tokens_per_s: number;
  readonly decode_tokens_per_s: number;
  readonly provider: string;
  readonly kv_method: string;
  /** Threads of the compact-cache attention kernel (methods that attend in it; `--attention-threads`). */
  readonly attention_threads: number;
  readonly kv_bytes: number;
  readonly kv_bytes_fp16: number;
  readonly bits_per_element: number;
  /** Of kv_bytes, the QAQ policy's attention statistics (QAQ methods only). */
  readonly policy_bytes?: number;
  readonly peak_rss_bytes: number;
  readonly model: string;
}

export function peakResidentBytes(): number {
  // resourceUsage().maxRSS is in kilobytes on Linux and macOS.
  return process.resourceUsage().maxRSS * 1024;
}

export function generateReport(
  result: GenerationResult,
  memory: KeyValueMemory,
  context: { provider: string; kvMethod: string; model: string; attentionThreads: number },
): GenerateReport {
  return {
    text: result.text,
    prompt_tokens: result.promptTokenCount,
    generated_tokens: result.tokenIds.length,
    finish_reason: result.finishReason,
    prefill_tokens_per_s: round(result.timings.prefillTokensPerSecond),
    decode_tokens_per_s: round(result.timings.decodeTokensPerSecond),
    provider: context.provider,
    kv_method: context.kvMethod,
    attention_threads: context.attentionThreads,
    kv_bytes: memory.bytes,
    kv_bytes_fp16: memory.fp16Bytes,
    bits_per_element: round(memory.bitsPerElement),
    ...(memory.policyBytes === undefined ? {} : { policy_bytes: memory.policyBytes }),
    peak_rss_bytes: peakResidentBytes(),
    model: context.model,
  };
}

export function formatMemoryLine(memory: KeyValueMemory, kvMethod: string): string {
  const ratio = memory.bytes === 0 ? 1 : memory.fp16Bytes / memory.bytes;
  return (
    `KV cache (${kvMethod}): ${formatBytes(memory.bytes)} held for ${memory.elements.toLocaleString('en-US')} elements ` +
    `vs ${formatBytes(memory.fp16Bytes)} at fp16 (${ratio.toFixed(2)}x), ${memory.bitsPerElement.toFixed(2)} bits/element` +
    (memory.policyBytes === undefined ? '' : ` (the policy's attention statistics included: ${formatBytes(memory.policyBytes)})`)
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
