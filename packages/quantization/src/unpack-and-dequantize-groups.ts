import { QaqError } from '@qaq/errors';
import { assertPackedBitWidth } from './bit-width.js';
import { dequantizeContiguous } from './unpack-and-dequantize.js';
import { assertRange } from './validation.js';

/**
 * Batched reading side: `groupCount` consecutive groups of the same width in one call. Group g's codes start at
 * packed[packedByteOffset + g·⌈groupLength·B/8⌉] (each group on a byte boundary, as packCodes writes it), its
 * [minimum, step] at parameters[parametersOffset + 2g…], and its values go to
 * target[targetOffset + g·groupLength…]. Same results as unpackAndDequantizeGroup per group; everything is
 * checked before anything is written.
 *
 * Why it exists: with one call per group, a cache that mixes widths makes V8 keep every width's loop out of line,
 * and dequantization ran about 1.5× slower than with one width per call site. A run of groups at one width
 * (a baseline, a KIVI value block, a pool of one width) keeps its loop hot.
 */
export function unpackAndDequantizeGroups(
  packed: Uint8Array,
  packedByteOffset: number,
  groupCount: number,
  groupLength: number,
  bits: number,
  parameters: Float32Array,
  parametersOffset: number,
  target: Float32Array,
  targetOffset: number,
): void {
  assertPackedBitWidth(bits);
  if (!Number.isInteger(groupCount) || groupCount < 0 || !Number.isInteger(groupLength) || groupLength < 1) {
    throw new QaqError('out-of-bounds', `need groupCount ≥ 0 and groupLength ≥ 1, got ${groupCount} and ${groupLength}`, {
      details: { groupCount, groupLength },
    });
  }
  const groupBytes = Math.ceil((groupLength * bits) / 8);
  assertRange('packed', packed, packedByteOffset, groupCount * groupBytes);
  assertRange('parameters', parameters, parametersOffset, 2 * groupCount);
  assertRange('target', target, targetOffset, groupCount * groupLength);
  for (let group = 0; group < groupCount; group += 1) {
    const minimum = parameters[parametersOffset + 2 * group] as number;
    const step = parameters[parametersOffset + 2 * group + 1] as number;
    if (!(minimum - minimum === 0 && step > 0 && step < Infinity)) {
      throw new QaqError('invalid-parameters', `group ${group}: minimum must be finite and step finite and positive`, {
        details: { group, minimum, step },
      });
    }
  }
  dequantizeContiguous(packed, packedByteOffset, groupCount, groupLength, groupBytes, bits, parameters, parametersOffset, target, targetOffset);
}
