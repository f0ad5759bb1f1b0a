import { QaqError } from '@qaq/errors';

/** Bits per stored element: 1..8 are quantized codes, 16 means fp16 passthrough (no minimum, no step). */
export type BitWidth = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 16;

/** The widths that produce quantized codes packed into bytes. */
export type PackedBitWidth = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** Every valid width, ascending. */
export const BIT_WIDTHS: readonly BitWidth[] = Object.freeze([1, 2, 3, 4, 5, 6, 7, 8, 16] as const);

export function isBitWidth(bits: unknown): bits is BitWidth {
  return typeof bits === 'number' && ((Number.isInteger(bits) && bits >= 1 && bits <= 8) || bits === 16);
}

export function isPackedBitWidth(bits: unknown): bits is PackedBitWidth {
  return typeof bits === 'number' && Number.isInteger(bits) && bits >= 1 && bits <= 8;
}

/** Throws QaqError('invalid-bit-width') unless `bits` is 1..8 or 16. */
export function assertBitWidth(bits: number): asserts bits is BitWidth {
  if (!isBitWidth(bits)) {
    throw new QaqError('invalid-bit-width', `bit width must be an integer in 1..8 or 16, got ${String(bits)}`, {
      details: { bits },
    });
  }
}

/** Throws QaqError('invalid-bit-width') unless `bits` is 1..8 (16 is fp16 passthrough: use encodeFloat16). */
export function assertPackedBitWidth(bits: number): asserts bits is PackedBitWidth {
  if (!isPackedBitWidth(bits)) {
    throw new QaqError(
      'invalid-bit-width',
      `quantized bit width must be an integer in 1..8, got ${String(bits)}` +
        (bits === 16 ? ' (16 is fp16 passthrough: store with encodeFloat16)' : ''),
      { details: { bits } },
    );
  }
}
