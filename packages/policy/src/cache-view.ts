/**
 * What the policy reads from a cache layer, read-only. Groups are indexed token-major:
 * group = token · groupsPerToken + head (groupsPerToken = kvHeads per (token, layer, head), 1 per (token, layer)).
 */
export interface CacheLayerView {
  /** Live tokens of the layer (T). */
  readonly tokenCount: number;
  /** Groups per token for each of K and V. */
  readonly groupsPerToken: number;
  /** The newest this-many tokens are held at fp16 by the cache (recent window); plans leave them alone. */
  readonly recentTokens: number;
  /** Whether a full-precision copy exists so a group can be promoted to more bits. */
  readonly canPromote: boolean;
  keyBits(group: number): number;
  valueBits(group: number): number;
  /** max − min of the group's elements after outliers are set aside. */
  keyRange(group: number): number;
  valueRange(group: number): number;
  /**
   * Bulk form for the policy's hot loop: writes every group's bits and range (tokenCount · groupsPerToken
   * entries) of keys or values into the caller's arrays.
   */
  readGroups(kind: 'keys' | 'values', bitsOut: Uint8Array, rangesOut: Float64Array): void;
}
