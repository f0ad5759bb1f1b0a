import { describe, expect, it } from 'vitest';
import { OUTLIER_VALUE_BYTES, describeOutlierRecord, outlierPositionBytes, outlierRecordBytes } from './outlier-record.js';

describe('outlier record size', () => {
  it('uses 1-byte positions up to 256 elements, 2 above', () => {
    expect(outlierPositionBytes(1)).toBe(1);
    expect(outlierPositionBytes(64)).toBe(1);
    expect(outlierPositionBytes(256)).toBe(1);
    expect(outlierPositionBytes(257)).toBe(2);
    expect(outlierPositionBytes(576)).toBe(2);
    expect(outlierPositionBytes(65536)).toBe(2);
    for (const length of [0, 65537, 1.5, -3]) {
      expect(() => outlierPositionBytes(length)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
    }
  });

  it('counts positions and fp16 values', () => {
    expect(OUTLIER_VALUE_BYTES).toBe(2);
    expect(describeOutlierRecord(128, 2)).toEqual({
      groupLength: 128,
      count: 2,
      positionBytes: 1,
      valueBytes: 2,
      bytesPerOutlier: 3,
      totalBytes: 6,
    });
    expect(outlierRecordBytes(576, 6)).toBe(24);
    expect(outlierRecordBytes(64, 0)).toBe(0);
    expect(Object.isFrozen(describeOutlierRecord(64, 2))).toBe(true);
    expect(() => describeOutlierRecord(64, 65)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
    expect(() => describeOutlierRecord(64, -1)).toThrow(expect.objectContaining({ code: 'out-of-bounds' }));
  });
});
