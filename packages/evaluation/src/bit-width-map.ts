import { CompactCacheAttention, SegmentedLanguageModel, type RuntimeLanguageModel } from '@qaq/runtime';

/** One layer's bit widths per cached token (the mean over the token's groups in that layer). */
export interface LayerBitWidths {
  readonly layer: number;
  /** Absolute position of the first cached token (sliding-window layers have dropped older ones). */
  readonly first_position: number;
  /** The newest this-many tokens sit in the fp16 recent window (reported as 16 bits). */
  readonly recent_tokens: number;
  readonly keys: number[];
  readonly values: number[];
}

/** QAQ's current bit width per token position × layer, keys and values separately (the heatmap's data). */
export interface BitWidthMap {
  readonly method: string;
  /** Tokens the model has been fed since its last reset. */
  readonly tokens: number;
  readonly groups_per_token: number;
  readonly layers: LayerBitWidths[];
}

/**
 * Reads the bit-width tags of a model's compact cache (the segmented path with `CompactCacheAttention`: fp16,
 * uniform and qaq) through the cache's read-only policy view; null for any other cache (fp32, kivi, ort).
 */
export function readBitWidthMap(model: RuntimeLanguageModel): BitWidthMap | null {
  if (!(model instanceof SegmentedLanguageModel) || !(model.attention instanceof CompactCacheAttention)) return null;
  const attention = model.attention;
  const layers: LayerBitWidths[] = [];
  let groupsPerToken = 0;
  for (let layer = 0; layer < model.config.layerCount; layer++) {
    const view = attention.cache.view(layer);
    groupsPerToken = view.groupsPerToken;
    const tokenCount = view.tokenCount;
    const recent = view.recentTokens;
    const keys: number[] = new Array<number>(tokenCount);
    const values: number[] = new Array<number>(tokenCount);
    for (let token = 0; token < tokenCount; token++) {
      if (token >= tokenCount - recent) {
        keys[token] = 16;
        values[token] = 16;
        continue;
      }
      let keyBits = 0;
      let valueBits = 0;
      for (let group = token * groupsPerToken; group < (token + 1) * groupsPerToken; group++) {
        keyBits += view.keyBits(group);
        valueBits += view.valueBits(group);
      }
      keys[token] = keyBits / groupsPerToken;
      values[token] = valueBits / groupsPerToken;
    }
    layers.push({ layer, first_position: model.tokenCount - tokenCount, recent_tokens: recent, keys, values });
  }
  return { method: attention.name, tokens: model.tokenCount, groups_per_token: groupsPerToken, layers };
}
