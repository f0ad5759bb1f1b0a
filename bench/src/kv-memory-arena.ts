import { MemoryArena } from '@qaq/kv-cache';
import { CompactCacheAttention, SegmentedLanguageModel, type RuntimeLanguageModel } from '@qaq/runtime';

/**
 * The attention kernel's WebAssembly memory, where a compact cache's pools live (with the kernel's descriptors and
 * its per-call I/O block). `peakBytes` is every arena byte ever handed out (the bytes the process touched there);
 * `liveBytes` what is handed out now; `freeBytes` holes between live blocks; `memoryBytes` the memory's size
 * (reserved by doubling, never shrinks; untouched pages are not resident).
 */
export interface KernelArenaBytes {
  readonly peakBytes: number;
  readonly liveBytes: number;
  readonly freeBytes: number;
  readonly memoryBytes: number;
}

/** The kernel arena's figures for a segmented model over a compact cache placed in a MemoryArena, else null. */
export function kernelArenaBytes(model: RuntimeLanguageModel): KernelArenaBytes | null {
  if (!(model instanceof SegmentedLanguageModel) || !(model.attention instanceof CompactCacheAttention)) return null;
  const arena = model.attention.cache.arena;
  if (!(arena instanceof MemoryArena)) return null;
  return { peakBytes: arena.peakBytes, liveBytes: arena.liveBytes, freeBytes: arena.freeBytes, memoryBytes: arena.buffer.byteLength };
}
