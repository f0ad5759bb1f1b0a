import type { CacheAccounting } from '@qaq/kv-cache';
import type { KeyValueMemory } from './key-value-store.js';

/**
 * KeyValueMemory from a compact cache's exact accounting: `bytes` is every live component (codes, fp16 scales and
 * minima, bit-width tags, slot indices, outlier values and positions, the fp16 recent window and promotion tier);
 * `slackBytes` is the rest of what the cache holds (free slots, unused capacity, free lists, scratch). `extraBytes`:
 * state held beside the cache that its tokens need (e.g. the centering means, the policy's attention statistics of
 * live tokens), counted as live bytes; `extraSlackBytes`: the rest of that state's allocation.
 */
export function memoryFromAccounting(accounting: CacheAccounting, extraBytes = 0, extraSlackBytes = 0): KeyValueMemory {
  const cacheLiveBytes = accounting.totalBytes - accounting.slackBytes - accounting.bookkeepingBytes - accounting.scratchBytes;
  const bytes = cacheLiveBytes + extraBytes;
  const elements = accounting.liveElements;
  return {
    bytes,
    slackBytes: accounting.totalBytes - cacheLiveBytes + extraSlackBytes,
    fp16Bytes: elements * 2,
    elements,
    bitsPerElement: elements === 0 ? 0 : (8 * bytes) / elements,
  };
}
