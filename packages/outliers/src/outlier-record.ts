import { QaqError } from '@qaq/errors';

/** Bytes of one outlier value: fp16. */
export const OUTLIER_VALUE_BYTES = 2;

/** Bytes of one outlier position: 1 when every index fits a byte (groupLength ≤ 256), else 2. */
export function outlierPositionBytes(groupLength: number): 1 | 2 {
  if (!Number.isInteger(groupLength) || groupLength < 1 || groupLength > 65536) {
    throw new QaqError('out-of-bounds', `group length must be an integer in 1..65536, got ${String(groupLength)}`, {
      details: { groupLength },
    });
  }
  return groupLength <= 256 ? 1 : 2;
}

/** The storage of one group's outliers: `count` (position, fp16 value) pairs. Counts toward bits per element. */
export interface OutlierRecordSize {
  readonly groupLength: number;
  readonly count: number;
  readonly positionBytes: 1 | 2;
  readonly valueBytes: 2;
  /** positionBytes + valueBytes. */
  readonly bytesPerOutlier: number;
  /** count · bytesPerOutlier; the count itself is implied by the group length and α, so it is not stored. */
  readonly totalBytes: number;
}

/** Describes the per-group outlier record for `count` outliers in a group of `groupLength` elements. */
export function describeOutlierRecord(groupLength: number, count: number): OutlierRecordSize {
  const positionBytes = outlierPositionBytes(groupLength);
  if (!Number.isInteger(count) || count < 0 || count > groupLength) {
    throw new QaqError('out-of-bounds', `outlier count must be an integer in 0..${groupLength}, got ${String(count)}`, {
      details: { groupLength, count },
    });
  }
  const bytesPerOutlier = positionBytes + OUTLIER_VALUE_BYTES;
  return Object.freeze({
    groupLength,
    count,
    positionBytes,
    valueBytes: OUTLIER_VALUE_BYTES,
    bytesPerOutlier,
    totalBytes: count * bytesPerOutlier,
  });
}

/** Just the total: count · (outlierPositionBytes(groupLength) + 2). */
export function outlierRecordBytes(groupLength: number, count: number): number {
  return describeOutlierRecord(groupLength, count).totalBytes;
}
