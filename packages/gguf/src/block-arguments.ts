import { QaqError } from '@qaq/errors';
import { tensorTypeInfoOrUndefined, tensorTypeName, type GgufTensorTypeInfo } from './tensor-types.js';

export function unsupportedTensorType(type: number, operation: string): QaqError {
  const name = tensorTypeName(type);
  return new QaqError('unsupported-tensor-type', `${operation} does not support tensor type ${name}`, {
    details: { type, typeName: name, operation },
  });
}

/**
 * Checks a (type, source, elementCount) triple before decoding and returns the block count:
 * elementCount a whole number of blocks, source long enough.
 */
export function checkedBlockCount(
  type: number,
  source: Uint8Array,
  elementCount: number,
  operation: string,
): { readonly blockCount: number; readonly info: GgufTensorTypeInfo } {
  const info = tensorTypeInfoOrUndefined(type);
  if (info === undefined) throw unsupportedTensorType(type, operation);
  if (!(source instanceof Uint8Array)) {
    throw new QaqError('invalid-argument', `${operation}: source must be a Uint8Array`, { details: { type } });
  }
  if (!Number.isSafeInteger(elementCount) || elementCount < 0 || elementCount % info.blockElementCount !== 0) {
    throw new QaqError('invalid-argument', `${operation}: elementCount must be a whole number of ${info.name} blocks`, {
      details: { elementCount, blockElementCount: info.blockElementCount },
    });
  }
  const blockCount = elementCount / info.blockElementCount;
  if (blockCount * info.blockByteLength > source.length) {
    throw new QaqError('invalid-argument', `${operation}: source is shorter than ${elementCount} ${info.name} elements`, {
      details: { elementCount, expectedBytes: blockCount * info.blockByteLength, sourceBytes: source.length },
    });
  }
  return { blockCount, info };
}

/** Checks that [offset, offset + count) fits an output array. */
export function checkTargetRange(length: number, offset: number, count: number, what: string, operation: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + count > length) {
    throw new QaqError('invalid-argument', `${operation}: ${what} is too small`, {
      details: { what, offset, count, length },
    });
  }
}

/** Unpacks the 6-bit scale and min `index` (0..7) of a Q4_K / Q5_K block (ggml get_scale_min_k4). */
export function scaleMinK4(bytes: Uint8Array, scalesStart: number, index: number, out: Int32Array): void {
  if (index < 4) {
    out[0] = (bytes[scalesStart + index] as number) & 63;
    out[1] = (bytes[scalesStart + index + 4] as number) & 63;
  } else {
    const low = bytes[scalesStart + index + 4] as number;
    out[0] = (low & 0xf) | (((bytes[scalesStart + index - 4] as number) >> 6) << 4);
    out[1] = (low >> 4) | (((bytes[scalesStart + index] as number) >> 6) << 4);
  }
}
