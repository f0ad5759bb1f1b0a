/**
 * @qaq/outliers — per-group outliers kept exactly as fp16 in a sparse record (positions + values), outside the
 * quantizer's range (qaq-method.md §3). Typical use for one group:
 *   perSide = outlierCountPerSide(length, α); selectOutliers(…, excluded);
 *   quantizeAndPackGroup(…, excluded)  …later…  unpackAndDequantizeGroup(…); mergeOutliers(…).
 *
 * Names beyond the brief: DEFAULT_OUTLIER_FRACTION, OUTLIER_VALUE_BYTES, describeOutlierRecord /
 * OutlierRecordSize (the "value-type description" of a record's size) and outlierRecordBytes.
 * mergeOutliers also accepts Uint8Array positions (the 1-byte storage of groups ≤ 256).
 */
export { DEFAULT_OUTLIER_FRACTION, outlierCountPerSide } from './outlier-count.js';
export {
  OUTLIER_VALUE_BYTES,
  describeOutlierRecord,
  outlierPositionBytes,
  outlierRecordBytes,
  type OutlierRecordSize,
} from './outlier-record.js';
export { selectOutliers } from './select-outliers.js';
export { mergeOutliers } from './merge-outliers.js';
