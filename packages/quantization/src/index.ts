/**
 * @qaq/quantization — asymmetric min–max quantization with fp16-exact parameters, exact LSB-first bit packing for
 * 1..8 bits, fp16 conversion, the QAQ bit formulas and fixed-bit baselines. Pure: runs in Node and browsers.
 *
 * Names beyond the brief: `PackedBitWidth`/`assertPackedBitWidth` (1..8 only), `computeGroupParameters`,
 * `roundDownToFloat16`/`roundUpToFloat16`, `unpackAndDequantizeGroups` (a run of same-width groups in one call),
 * `quantizeTokensUniform`/`dequantizeTokensUniform` (the uniform per-token baseline over many tokens),
 * `dequantizeKeyChannelBlock`, an optional trailing `offsets` object on the KIVI key-block functions (whose
 * `codesOut` holds packed bytes, see keyChannelBlockByteLength), and an optional `implementation` argument on the
 * bulk fp16 functions (tests and benchmarks).
 * Parameters are fp16-exact and float32-aligned, so |x − x̂| ≤ step/2 holds exactly for the float32 output
 * (see group-parameters.ts and the README).
 * Values must be finite with |x| ≤ 65504 ('non-finite-value' / 'out-of-fp16-range'), since the parameters and
 * outliers are fp16.
 */
export {
  BIT_WIDTHS,
  assertBitWidth,
  assertPackedBitWidth,
  isBitWidth,
  isPackedBitWidth,
  type BitWidth,
  type PackedBitWidth,
} from './bit-width.js';
export {
  FLOAT16_MAX,
  FLOAT16_MIN_NORMAL,
  FLOAT16_MIN_POSITIVE,
  FLOAT16_NAN_BITS,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  roundDownToFloat16,
  roundToFloat16,
  roundUpToFloat16,
} from './float16.js';
export {
  decodeFloat16,
  encodeFloat16,
  nativeFloat16ArrayAvailable,
  type Float16Implementation,
} from './float16-bulk.js';
export { packCodes, packedByteLength, unpackCodes } from './bit-packing.js';
export { computeGroupParameters, dequantizeGroup, quantizeGroup } from './quantizer.js';
export { quantizeAndPackGroup } from './quantize-and-pack.js';
export { assertGroupRange, groupRanges, searchClippedParameters, type GroupRange } from './clipped-range.js';
export { unpackAndDequantizeGroup } from './unpack-and-dequantize.js';
export { unpackAndDequantizeGroups } from './unpack-and-dequantize-groups.js';
export { bitsForRange, keyAllowedStd, keyAllowedStdForAttention, valueAllowedStd } from './bit-formulas.js';
export {
  dequantizeKeyChannelBlock,
  dequantizeTokensUniform,
  keyChannelBlockByteLength,
  quantizeKeyChannelBlock,
  quantizeTokensUniform,
  tokenGroupsByteLength,
  type KeyChannelBlockOffsets,
  type KeyChannelBlockTargetOffsets,
} from './baselines.js';
export { HadamardRotation } from './hadamard-rotation.js';
