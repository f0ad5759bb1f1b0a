/**
 * Exact byte accounting of a cache. Every typed array the cache owns is split into these categories, so
 * `totalBytes` equals the sum of their byteLength. `bitsPerElement` is the all-in cost of the live data
 * (everything except slack, bookkeeping and scratch) over live elements (tokens · kvHeads · headDim · 2 for K and V).
 */
export interface CacheAccounting {
  /** Packed codes of quantized groups, and fp16 codes of 16-bit groups outside the recent window. */
  codeBytes: number;
  /** fp16 steps (scales) of live groups outside the recent window. */
  scaleBytes: number;
  /** fp16 minima of live groups outside the recent window. */
  minimumBytes: number;
  /** One 4-bit bit-width tag per live group (half a byte; two share a byte). */
  bitWidthTagBytes: number;
  /** One slot index per live group (which slot of its width's pool holds it). */
  slotIndexBytes: number;
  outlierValueBytes: number;
  outlierPositionBytes: number;
  /** fp16 codes and parameters of the groups in the recent window. */
  recentWindowBytes: number;
  /** fp16 copies and their slot indices (optional promotion tier). */
  promotionTierBytes: number;
  /** Allocated but unused: free slots in every pool, unused capacity of per-group arrays. */
  slackBytes: number;
  /** Free lists and pending-bit arrays. */
  bookkeepingBytes: number;
  /** Per-group scratch buffers used while re-quantizing (one group each). */
  scratchBytes: number;
  /** Sum of all categories: the bytes the cache really holds. */
  totalBytes: number;
  /** Live elements: tokens · kvHeads · headDim, keys plus values, over all layers. */
  liveElements: number;
  /** All-in bits per live element of the live data (codes, parameters, tags, slot indices, outliers, recent window, tier). */
  bitsPerElement: number;
  /** totalBytes · 8 / liveElements (includes slack, bookkeeping and scratch). */
  heldBitsPerElement: number;
  /** 16 / bitsPerElement: compression against an fp16 cache. */
  compressionRatio: number;
}

export function emptyAccounting(): CacheAccounting {
  return {
    codeBytes: 0,
    scaleBytes: 0,
    minimumBytes: 0,
    bitWidthTagBytes: 0,
    slotIndexBytes: 0,
    outlierValueBytes: 0,
    outlierPositionBytes: 0,
    recentWindowBytes: 0,
    promotionTierBytes: 0,
    slackBytes: 0,
    bookkeepingBytes: 0,
    scratchBytes: 0,
    totalBytes: 0,
    liveElements: 0,
    bitsPerElement: 0,
    heldBitsPerElement: 0,
    compressionRatio: 0,
  };
}

/** Fills the derived fields (totals and ratios) from the byte categories. */
export function finishAccounting(accounting: CacheAccounting): CacheAccounting {
  const liveData =
    accounting.codeBytes +
    accounting.scaleBytes +
    accounting.minimumBytes +
    accounting.bitWidthTagBytes +
    accounting.slotIndexBytes +
    accounting.outlierValueBytes +
    accounting.outlierPositionBytes +
    accounting.recentWindowBytes +
    accounting.promotionTierBytes;
  accounting.totalBytes = liveData + accounting.slackBytes + accounting.bookkeepingBytes + accounting.scratchBytes;
  const elements = accounting.liveElements;
  accounting.bitsPerElement = elements > 0 ? (liveData * 8) / elements : 0;
  accounting.heldBitsPerElement = elements > 0 ? (accounting.totalBytes * 8) / elements : 0;
  accounting.compressionRatio = accounting.bitsPerElement > 0 ? 16 / accounting.bitsPerElement : 0;
  return accounting;
}
