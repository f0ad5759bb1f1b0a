/**
 * @qaq/quantization — asymmetric min–max quantization with fp16-exact parameters, exact LSB-first bit packing for
 * 1..8 bits, fp16 conversion, the QAQ bit formulas and fixed-bit baselines. Pure: runs in Node and browsers.
 *
 * Names beyond the brief: `PackedBitWidth`/`assertPackedBitWidth` (1..8 only), `computeGroupParameters`,
 * `roundDownToFloat16`/`roundUpToFloat16`, `quantizeTokensUniform`/`dequantizeTokensUniform` (the uniform
 * per-token baseline over many tokens), `dequantizeKeyChannelBlock`, and an optional trailing `offsets` object on
 * the KIVI key-block functions (whose `codesOut` holds packed bytes, see keyChannelBlockByteLength).
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
export { quantizeAndPackGroup, unpackAndDequantizeGroup } from './fused-group.js';
export { bitsForRange, keyAllowedStd, valueAllowedStd } from './bit-formulas.js';
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
