import type { KvCache, KvKind } from '@qaq/kv-cache';
import { CompactCacheAttention, SegmentedLanguageModel, type RuntimeLanguageModel } from '@qaq/runtime';

/**
 * Bit widths of the cached keys or values, layers × token positions, each cell the mean width over the token's
 * groups in that layer (one group per KV head, or one per token and layer). 0 marks no token (a sliding-window
 * layer that evicted it, or a layer shorter than the longest).
 */
export interface BitWidthMatrix {
  readonly layerCount: number;
  /** Columns: the longest layer's token count. */
  readonly tokenCount: number;
  /** Row-major [layer][token]. */
  readonly keys: Float32Array;
  readonly values: Float32Array;
}

/** The compact cache behind a model, or null when its method keeps none (fp32 dense graph, KIVI). */
export function compactCacheOf(model: RuntimeLanguageModel): KvCache | null {
  if (!(model instanceof SegmentedLanguageModel)) return null;
  return model.attention instanceof CompactCacheAttention ? model.attention.cache : null;
}

/** Reads every group's bit-width tag (read-only; no allocation beyond the returned matrix). */
export function readBitWidths(cache: KvCache): BitWidthMatrix {
  const layerCount = cache.config.layers;
  let tokenCount = 0;
  for (let layer = 0; layer < layerCount; layer++) tokenCount = Math.max(tokenCount, cache.tokenCount(layer));
  const keys = new Float32Array(layerCount * tokenCount);
  const values = new Float32Array(layerCount * tokenCount);
  for (let layer = 0; layer < layerCount; layer++) {
    fillRow(cache, 'keys', layer, keys.subarray(layer * tokenCount, (layer + 1) * tokenCount));
    fillRow(cache, 'values', layer, values.subarray(layer * tokenCount, (layer + 1) * tokenCount));
  }
  return { layerCount, tokenCount, keys, values };
}

function fillRow(cache: KvCache, kind: KvKind, layer: number, row: Float32Array): void {
  const store = cache.store(kind, layer);
  const groupsPerToken = cache.groupsPerToken;
  const layerTokens = store.groupCount / groupsPerToken;
  // Sliding-window layers hold only their newest tokens: align them to the right (the latest positions).
  const firstColumn = row.length - layerTokens;
  for (let token = 0; token < layerTokens; token++) {
    let sum = 0;
    for (let head = 0; head < groupsPerToken; head++) sum += store.bitsOf(token * groupsPerToken + head);
    row[firstColumn + token] = sum / groupsPerToken;
  }
}
