import type { CacheAccounting, KvCache, KvKind } from '@qaq/kv-cache';
import { CompactCacheAttention, KiviAttention, SegmentedLanguageModel, type RuntimeLanguageModel } from '@qaq/runtime';

/** The live-byte components of a compact cache's accounting (what `bytes` sums), plus what it holds beyond them. */
export interface KvComponents {
  readonly codeBytes: number;
  readonly scaleBytes: number;
  readonly minimumBytes: number;
  readonly bitWidthTagBytes: number;
  readonly slotIndexBytes: number;
  readonly outlierValueBytes: number;
  readonly outlierPositionBytes: number;
  readonly recentWindowBytes: number;
  readonly promotionTierBytes: number;
  readonly slackBytes: number;
  readonly bookkeepingBytes: number;
  readonly scratchBytes: number;
}

/** Live groups per bit width, keys and values apart (compact caches only). */
export interface BitWidthHistogram {
  readonly keys: Readonly<Record<string, number>>;
  readonly values: Readonly<Record<string, number>>;
}

export interface KvBreakdown {
  /** Which cache the components come from. */
  readonly cache: 'compact' | 'kivi';
  readonly components: KvComponents;
  readonly bitWidths: BitWidthHistogram | null;
}

function components(accounting: CacheAccounting): KvComponents {
  return {
    codeBytes: accounting.codeBytes,
    scaleBytes: accounting.scaleBytes,
    minimumBytes: accounting.minimumBytes,
    bitWidthTagBytes: accounting.bitWidthTagBytes,
    slotIndexBytes: accounting.slotIndexBytes,
    outlierValueBytes: accounting.outlierValueBytes,
    outlierPositionBytes: accounting.outlierPositionBytes,
    recentWindowBytes: accounting.recentWindowBytes,
    promotionTierBytes: accounting.promotionTierBytes,
    slackBytes: accounting.slackBytes,
    bookkeepingBytes: accounting.bookkeepingBytes,
    scratchBytes: accounting.scratchBytes,
  };
}

function histogram(cache: KvCache, kind: KvKind): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let layer = 0; layer < cache.config.layers; layer++) {
    const store = cache.store(kind, layer);
    for (let group = 0; group < store.groupCount; group++) {
      const key = String(store.bitsOf(group));
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

/**
 * The accounting components behind `model.memory()`, where the model's cache exposes them: the segmented path with
 * a compact cache (fp16, uniform, QAQ) or KIVI's cache. The dense fp32 path has none (its bytes are fp32 elements).
 */
export function kvBreakdown(model: RuntimeLanguageModel): KvBreakdown | null {
  if (!(model instanceof SegmentedLanguageModel)) return null;
  const attention = model.attention;
  if (attention instanceof CompactCacheAttention) {
    const cache = attention.cache;
    return {
      cache: 'compact',
      components: components(cache.accounting()),
      bitWidths: { keys: histogram(cache, 'keys'), values: histogram(cache, 'values') },
    };
  }
  if (attention instanceof KiviAttention) return { cache: 'kivi', components: components(attention.cache.accounting()), bitWidths: null };
  return null;
}
