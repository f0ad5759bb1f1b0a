import { attribute } from './onnx/onnx-types.js';
import type { GraphBuilder } from './onnx/graph-builder.js';
import type { DecoderConfig, LayerKind } from './decoder-config.js';
import { MASKED_SCORE } from './decoder-ops.js';

/** What an attention emitter gets: the layer's new-token tensors after RoPE (and QK-norm), and its past cache. */
export interface AttentionContext {
  readonly builder: GraphBuilder;
  readonly config: DecoderConfig;
  readonly layer: number;
  readonly kind: LayerKind;
  /** [1, S, queryHeads, headDim] float32. */
  readonly query: string;
  /** [1, S, kvHeads, headDim] float32: the new tokens' keys and values. */
  readonly key: string;
  readonly value: string;
  /** [1, P, kvHeads, headDim] float32 graph inputs (token-major); P may differ per layer. */
  readonly pastKey: string;
  readonly pastValue: string;
  /** [1, S] int64 absolute positions of the new tokens (consecutive; the past holds the P tokens before them). */
  readonly positionIds: string;
}

/** Emits an attention sub-graph and returns its output, [1, S, queryHeads · headDim] float32. */
export type AttentionEmitter = (context: AttentionContext) => string;

/**
 * [S, P + S] bool: key j (absolute position firstPosition − P + j) is visible to query i when it is not in the
 * future and, on sliding layers, keyPosition > queryPosition − window.
 */
export function visibilityMask(context: AttentionContext, pastLength: string, totalLength: string): string {
  const g = context.builder;
  const queryPositions = g.op('Unsqueeze', [g.op('Squeeze', [context.positionIds, g.int64([0])]), g.int64([-1])]);
  const firstPosition = g.op('Slice', [
    g.op('Squeeze', [context.positionIds, g.int64([0])]),
    g.int64([0]),
    g.int64([1]),
    g.int64([0]),
  ]);
  const offsets = g.op('Range', [
    g.int64([0], []),
    g.op('Squeeze', [totalLength, g.int64([0])]),
    g.int64([1], []),
  ]);
  const keyPositions = g.op('Add', [offsets, g.op('Sub', [firstPosition, pastLength])]);
  const causal = g.op('LessOrEqual', [keyPositions, queryPositions]);
  const window = context.config.slidingWindow;
  if (context.kind !== 'sliding' || window === null) return causal;
  const windowStart = g.op('Sub', [queryPositions, g.int64([window], [])]);
  return g.op('And', [causal, g.op('Greater', [keyPositions, windowStart])]);
}

/**
 * Full-precision attention with plain ONNX ops, HF eager order: (q·kᵀ)·scale, masked with the fp32 minimum,
 * softmax in fp32, ·v. Grouped-query heads share a KV head without copying it ([kvHeads, group·S, headDim]).
 */
export const defaultAttention: AttentionEmitter = (context) => {
  const g = context.builder;
  const { queryHeadCount, keyValueHeadCount, headDim, attentionScale } = context.config;
  const group = queryHeadCount / keyValueHeadCount;
  const keys = g.op('Concat', [context.pastKey, context.key], { axis: attribute.int(1) });
  const values = g.op('Concat', [context.pastValue, context.value], { axis: attribute.int(1) });
  const pastLength = g.op('Shape', [context.pastKey], { start: attribute.int(1), end: attribute.int(2) });
  const totalLength = g.op('Shape', [keys], { start: attribute.int(1), end: attribute.int(2) });
  // q: [1, S, kvH, G, D] → [1, kvH, G, S, D] → [1, kvH, G·S, D]
  const query = g.op('Reshape', [
    g.op('Transpose', [g.op('Reshape', [context.query, g.int64([1, -1, keyValueHeadCount, group, headDim])])], {
      perm: attribute.ints([0, 2, 3, 1, 4]),
    }),
    g.int64([1, keyValueHeadCount, -1, headDim]),
  ]);
  const keysTransposed = g.op('Transpose', [keys], { perm: attribute.ints([0, 2, 3, 1]) }); // [1, kvH, D, T]
  const valuesByHead = g.op('Transpose', [values], { perm: attribute.ints([0, 2, 1, 3]) }); // [1, kvH, T, D]
  const scores = g.op('Mul', [g.op('MatMul', [query, keysTransposed]), g.float32([attentionScale])]); // [1, kvH, G·S, T]
  // The [S, T] mask repeated for the G query heads of a KV head: [G, S, T] → [G·S, T].
  const mask = visibilityMask(context, pastLength, totalLength);
  const groupMask = group === 1 ? mask : g.op('Flatten', [g.op('Expand', [mask, g.int64([group, 1, 1])])], { axis: attribute.int(2) });
  const masked = g.op('Where', [groupMask, scores, g.float32([MASKED_SCORE])]);
  const flat = g.op('Softmax', [masked], { axis: attribute.int(-1) });
  const output = g.op('MatMul', [flat, valuesByHead]); // [1, kvH, G·S, D]
  const byToken = g.op('Transpose', [g.op('Reshape', [output, g.int64([1, keyValueHeadCount, group, -1, headDim])])], {
    perm: attribute.ints([0, 3, 1, 2, 4]),
  }); // [1, S, kvH, G, D]
  return g.op('Reshape', [byToken, g.int64([1, -1, queryHeadCount * headDim])]);
};
