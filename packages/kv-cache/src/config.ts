import { QaqError } from '@qaq/errors';
import { isBitWidth } from '@qaq/quantization';
import type { GroupLayout } from '@qaq/policy';

export interface KvCacheConfig {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** One group per (token, layer, KV head) — the default — or per (token, layer) across all KV heads. */
  readonly groupLayout?: GroupLayout;
  /** α: fraction of each group's elements kept exactly as sparse outliers (half each side). Default 0. */
  readonly outlierFraction?: number;
  /** R: the newest R tokens of each layer stay at fp16 before their first quantization. Default 0. */
  readonly recentWindow?: number;
  /**
   * Bits the recent window holds its tokens at: 16 (fp16, the default) or a packed width 1..8. At 8 bits a token
   * leaving the window is demoted on the nested grid, so it is quantized exactly as from the original values.
   */
  readonly recentWindowBits?: number;
  /** Keep an fp16 copy of every token so groups can be promoted to more bits. Default false. */
  readonly promotionTier?: boolean;
  /** Tokens per layer to allocate for at first; storage doubles beyond. Default 64. */
  readonly initialCapacityTokens?: number;
  /** Per layer: the most tokens the layer keeps (sliding-window attention), or null for no limit. */
  readonly slidingWindow?: readonly (number | null)[];
  /**
   * Groups stored at this many bits or fewer choose a least-squares clipped range (@qaq/quantization's
   * GroupRange 'least-squares') instead of min–max: less squared error at 2–3 bits, without the per-value bound
   * step/2 for the clipped extremes. 0 (the default): min–max everywhere, as the paper.
   */
  readonly clippedRangeMaxBits?: number;
}

export interface ResolvedKvCacheConfig {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly groupLayout: GroupLayout;
  readonly outlierFraction: number;
  readonly recentWindow: number;
  readonly recentWindowBits: number;
  readonly promotionTier: boolean;
  readonly initialCapacityTokens: number;
  readonly slidingWindow: readonly (number | null)[];
  readonly clippedRangeMaxBits: number;
}

function invalid(message: string, details: Record<string, unknown>): never {
  throw new QaqError('invalid-cache-config', message, { details });
}

function integerIn(name: string, value: unknown, minimum: number, maximum: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    invalid(`${name} must be an integer in ${minimum}..${maximum}`, { [name]: value });
  }
  return value;
}

/** Validates a cache config and fills defaults; throws QaqError('invalid-cache-config'). */
export function resolveKvCacheConfig(config: KvCacheConfig): ResolvedKvCacheConfig {
  if (typeof config !== 'object' || config === null) invalid('config must be an object', { config });
  const layers = integerIn('layers', config.layers, 1, 4096);
  const kvHeads = integerIn('kvHeads', config.kvHeads, 1, 4096);
  const headDim = integerIn('headDim', config.headDim, 1, 65536);
  const groupLayout = config.groupLayout ?? 'token-layer-head';
  if (groupLayout !== 'token-layer-head' && groupLayout !== 'token-layer') {
    invalid('groupLayout must be token-layer-head or token-layer', { groupLayout });
  }
  const groupLength = groupLayout === 'token-layer-head' ? headDim : kvHeads * headDim;
  if (groupLength > 65536) invalid('a group may hold at most 65536 elements', { groupLength });
  const outlierFraction = config.outlierFraction ?? 0;
  if (typeof outlierFraction !== 'number' || !(outlierFraction >= 0 && outlierFraction < 0.5)) {
    invalid('outlierFraction must be in [0, 0.5)', { outlierFraction });
  }
  const recentWindow = integerIn('recentWindow', config.recentWindow ?? 0, 0, 1 << 24);
  const recentWindowBits = config.recentWindowBits ?? 16;
  if (!isBitWidth(recentWindowBits)) {
    invalid('recentWindowBits must be a bit width 1..8 or 16', { recentWindowBits });
  }
  const promotionTier = config.promotionTier ?? false;
  if (typeof promotionTier !== 'boolean') invalid('promotionTier must be a boolean', { promotionTier });
  const clippedRangeMaxBits = integerIn('clippedRangeMaxBits', config.clippedRangeMaxBits ?? 0, 0, 8);
  const initialCapacityTokens = integerIn('initialCapacityTokens', config.initialCapacityTokens ?? 64, 1, 1 << 24);
  const slidingWindow = config.slidingWindow ?? [];
  if (!Array.isArray(slidingWindow) || slidingWindow.length > layers) {
    invalid('slidingWindow must have at most one entry per layer', { length: slidingWindow.length, layers });
  }
  const windows: (number | null)[] = [];
  for (let layer = 0; layer < layers; layer += 1) {
    const window = slidingWindow[layer] ?? null;
    windows.push(window === null ? null : integerIn(`slidingWindow[${layer}]`, window, 1, 1 << 30));
  }
  return {
    layers,
    kvHeads,
    headDim,
    groupLayout,
    outlierFraction,
    recentWindow,
    recentWindowBits,
    promotionTier,
    initialCapacityTokens,
    slidingWindow: windows,
    clippedRangeMaxBits,
  };
}
