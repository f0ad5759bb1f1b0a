import { QaqError } from '@qaq/errors';

/** fp16's largest finite value: anything beyond cannot be stored. */
export const FLOAT16_LIMIT = 65504;

export function isAllowedBits(bits: number): boolean {
  return Number.isInteger(bits) && ((bits >= 1 && bits <= 8) || bits === 16);
}

export function assertBits(name: string, bits: number): void {
  if (!isAllowedBits(bits)) {
    throw new QaqError('invalid-bit-width', `${name} must be 1..8 or 16`, { details: { [name]: bits } });
  }
}

export function assertLayer(layer: number, layers: number): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= layers) {
    throw new QaqError('invalid-layer', 'layer out of range', { details: { layer, layers } });
  }
}

export function assertLength(name: string, array: { length: number }, expected: number, atLeast = false): void {
  if (atLeast ? array.length < expected : array.length !== expected) {
    throw new QaqError('shape-mismatch', `${name} has the wrong length`, {
      details: { name, length: array.length, expected, atLeast },
    });
  }
}

/** Every value finite and within fp16 range. */
export function assertStorable(name: string, values: Float32Array, count: number): void {
  for (let index = 0; index < count; index += 1) {
    const value = values[index] as number;
    if (!(value >= -FLOAT16_LIMIT && value <= FLOAT16_LIMIT)) {
      throw new QaqError('non-finite-input', `${name} holds NaN, Inf or a value beyond fp16 range`, {
        details: { name, index, value },
      });
    }
  }
}
