import { QaqError } from '@qaq/errors';
import { float16BitsToFloat32 } from '@qaq/quantization';

/**
 * Writes `count` outliers back over a dequantized group: target[offset + positions[inOffset + k]·stride] =
 * fp16 value values[inOffset + k]. Every position is checked against target before anything is written.
 */
export function mergeOutliers(
  target: Float32Array,
  offset: number,
  stride: number,
  positions: Uint16Array | Uint8Array,
  values: Uint16Array,
  inOffset: number,
  count: number,
): void {
  if (
    !Number.isInteger(offset) ||
    offset < 0 ||
    !Number.isInteger(stride) ||
    stride < 1 ||
    !Number.isInteger(inOffset) ||
    inOffset < 0 ||
    !Number.isInteger(count) ||
    count < 0 ||
    inOffset + count > positions.length ||
    inOffset + count > values.length
  ) {
    throw new QaqError('out-of-bounds', `cannot merge ${String(count)} outliers from ${String(inOffset)}`, {
      details: { offset, stride, inOffset, count, positionsLength: positions.length, valuesLength: values.length },
    });
  }
  for (let cursor = inOffset; cursor < inOffset + count; cursor += 1) {
    const targetIndex = offset + (positions[cursor] as number) * stride;
    if (targetIndex >= target.length) {
      throw new QaqError('out-of-bounds', `outlier position ${positions[cursor] as number} falls outside the target`, {
        details: { position: positions[cursor], targetIndex, targetLength: target.length },
      });
    }
  }
  for (let cursor = inOffset; cursor < inOffset + count; cursor += 1) {
    target[offset + (positions[cursor] as number) * stride] = float16BitsToFloat32(values[cursor] as number);
  }
}
