/**
 * A quantized tensor as affine blocks: value[i] = scales[b] * codes[i] + offsets[b] with
 * b = floor(i / blockSize), evaluated in fp32 (one rounding of the multiply, one of the add).
 */
export interface AffineBlocks {
  /** Elements sharing one scale and offset (32, or 16 for Q6_K). */
  readonly blockSize: number;
  /** Bits of each unsigned code: 4, 5, 6 or 8. */
  readonly codeBits: number;
  /** One unsigned code per element, in element order. */
  readonly codes: Uint8Array;
  readonly scales: Float32Array;
  readonly offsets: Float32Array;
}

/** Caller-provided storage for `decodeAffineBlocksInto`; each array must be large enough. */
export interface AffineBlocksTarget {
  readonly codes: Uint8Array;
  readonly scales: Float32Array;
  readonly offsets: Float32Array;
}

/** The affine layout of a block type, to size `AffineBlocksTarget` arrays. */
export interface AffineLayout {
  readonly blockSize: number;
  readonly codeBits: number;
}
