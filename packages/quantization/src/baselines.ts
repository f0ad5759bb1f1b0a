import { QaqError } from '@qaq/errors';
import { assertPackedBitWidth } from './bit-width.js';
import { quantizeAndPackGroup } from './quantize-and-pack.js';
import { unpackAndDequantizeGroup } from './unpack-and-dequantize.js';
import { unpackAndDequantizeGroups } from './unpack-and-dequantize-groups.js';
import { assertGroupValues, assertRange } from './validation.js';

/**
 * Fixed-bit baselines built from the same storage primitives as QAQ (fp16 minimum and step per group, exact bit
 * packing), so size and quality comparisons are fair.
 *
 * - Uniform per-token: every token group (D or kvHeads·D contiguous elements) at the same B bits.
 * - KIVI-style (Liu et al. 2024): keys per channel over blocks of G tokens, values per token.
 *   KIVI also keeps the newest tokens (fewer than G, plus a residual window) in full precision; that window is
 *   the cache's job, not this package's.
 */

/** Bytes of packed codes for `tokenCount` token groups of `groupLength` elements: each group starts on a byte. */
export function tokenGroupsByteLength(tokenCount: number, groupLength: number, bits: number): number {
  assertPackedBitWidth(bits);
  return tokenCount * Math.ceil((groupLength * bits) / 8);
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new QaqError('out-of-bounds', `${name} must be an integer ≥ 1, got ${String(value)}`, { details: { [name]: value } });
  }
}

/**
 * Uniform per-token quantization of `tokenCount` contiguous groups of `groupLength` values from
 * source[sourceOffset…]: group t's codes go to packedOut[packedOffset + t·⌈groupLength·B/8⌉…] and its
 * [minimum, step] to parametersOut[parametersOffset + 2t…]. Validates every group before writing any.
 */
export function quantizeTokensUniform(
  source: Float32Array,
  sourceOffset: number,
  tokenCount: number,
  groupLength: number,
  bits: number,
  packedOut: Uint8Array,
  packedOffset: number,
  parametersOut: Float32Array,
  parametersOffset: number,
): void {
  assertPackedBitWidth(bits);
  assertPositiveInteger('tokenCount', tokenCount);
  assertPositiveInteger('groupLength', groupLength);
  const groupBytes = Math.ceil((groupLength * bits) / 8);
  assertRange('source', source, sourceOffset, tokenCount * groupLength);
  assertRange('packedOut', packedOut, packedOffset, tokenCount * groupBytes);
  assertRange('parametersOut', parametersOut, parametersOffset, 2 * tokenCount);
  assertGroupValues(source, sourceOffset, tokenCount * groupLength, 1);
  for (let token = 0; token < tokenCount; token += 1) {
    quantizeAndPackGroup(
      source,
      sourceOffset + token * groupLength,
      groupLength,
      1,
      bits,
      packedOut,
      packedOffset + token * groupBytes,
      parametersOut,
      parametersOffset + 2 * token,
    );
  }
}

/** Inverse of quantizeTokensUniform into target[targetOffset…] (tokenCount·groupLength values). */
export function dequantizeTokensUniform(
  packed: Uint8Array,
  packedOffset: number,
  parameters: Float32Array,
  parametersOffset: number,
  tokenCount: number,
  groupLength: number,
  bits: number,
  target: Float32Array,
  targetOffset: number,
): void {
  assertPackedBitWidth(bits);
  assertPositiveInteger('tokenCount', tokenCount);
  assertPositiveInteger('groupLength', groupLength);
  unpackAndDequantizeGroups(packed, packedOffset, tokenCount, groupLength, bits, parameters, parametersOffset, target, targetOffset);
}

/** Bytes of packed codes for one KIVI key block: `channels` channel groups of ⌈tokenCount·B/8⌉ bytes each. */
export function keyChannelBlockByteLength(tokenCount: number, channels: number, bits: number): number {
  assertPackedBitWidth(bits);
  return channels * Math.ceil((tokenCount * bits) / 8);
}

/** Where a KIVI key block lives inside larger buffers; all default to 0. */
export interface KeyChannelBlockOffsets {
  readonly keysOffset?: number;
  readonly packedOffset?: number;
  readonly parametersOffset?: number;
}

/**
 * KIVI-style key quantization: `keys` holds a block of G = tokenCount tokens × D = channels values, token-major
 * (keys[keysOffset + t·D + c]). Each channel c is one group of G values (stride D): its codes go to
 * codesOut[packedOffset + c·⌈G·B/8⌉…] (packed, see keyChannelBlockByteLength) and its [minimum, step] to
 * parametersOut[parametersOffset + 2c…] (2·D numbers in all). Validates the whole block before writing anything.
 */
export function quantizeKeyChannelBlock(
  keys: Float32Array,
  tokenCount: number,
  channels: number,
  bits: number,
  codesOut: Uint8Array,
  parametersOut: Float32Array,
  offsets: KeyChannelBlockOffsets = {},
): void {
  const { keysOffset = 0, packedOffset = 0, parametersOffset = 0 } = offsets;
  assertPackedBitWidth(bits);
  assertPositiveInteger('tokenCount', tokenCount);
  assertPositiveInteger('channels', channels);
  const channelBytes = Math.ceil((tokenCount * bits) / 8);
  assertRange('keys', keys, keysOffset, tokenCount * channels);
  assertRange('codesOut', codesOut, packedOffset, channels * channelBytes);
  assertRange('parametersOut', parametersOut, parametersOffset, 2 * channels);
  assertGroupValues(keys, keysOffset, tokenCount * channels, 1);
  for (let channel = 0; channel < channels; channel += 1) {
    quantizeAndPackGroup(
      keys,
      keysOffset + channel,
      tokenCount,
      channels,
      bits,
      codesOut,
      packedOffset + channel * channelBytes,
      parametersOut,
      parametersOffset + 2 * channel,
    );
  }
}

/** Where a dequantized KIVI key block goes; all default to 0. */
export interface KeyChannelBlockTargetOffsets {
  readonly packedOffset?: number;
  readonly parametersOffset?: number;
  readonly targetOffset?: number;
}

/** Inverse of quantizeKeyChannelBlock: writes the G×D token-major block to target[targetOffset…]. */
export function dequantizeKeyChannelBlock(
  codes: Uint8Array,
  parameters: Float32Array,
  tokenCount: number,
  channels: number,
  bits: number,
  target: Float32Array,
  offsets: KeyChannelBlockTargetOffsets = {},
): void {
  const { packedOffset = 0, parametersOffset = 0, targetOffset = 0 } = offsets;
  assertPackedBitWidth(bits);
  assertPositiveInteger('tokenCount', tokenCount);
  assertPositiveInteger('channels', channels);
  const channelBytes = Math.ceil((tokenCount * bits) / 8);
  assertRange('codes', codes, packedOffset, channels * channelBytes);
  assertRange('parameters', parameters, parametersOffset, 2 * channels);
  assertRange('target', target, targetOffset, tokenCount * channels);
  for (let channel = 0; channel < channels; channel += 1) {
    unpackAndDequantizeGroup(
      codes,
      packedOffset + channel * channelBytes,
      tokenCount,
      bits,
      parameters[parametersOffset + 2 * channel] as number,
      parameters[parametersOffset + 2 * channel + 1] as number,
      target,
      targetOffset + channel,
      channels,
    );
  }
}
