import { describe, expect, it } from 'vitest';
import { formatMemoryLine } from './run-report.js';

describe('formatMemoryLine', () => {
  it('says how much of the held bytes are the policy statistics, when a QAQ method has them', () => {
    const memory = { bytes: 3 * 1024 ** 2, slackBytes: 0, fp16Bytes: 15 * 1024 ** 2, elements: 7_864_320, bitsPerElement: 3.2 };
    expect(formatMemoryLine(memory, 'uniform:4')).toBe(
      'KV cache (uniform:4): 3.0 MiB held for 7,864,320 elements vs 15.0 MiB at fp16 (5.00x), 3.20 bits/element',
    );
    expect(formatMemoryLine({ ...memory, policyBytes: 40_960 }, 'qaq:lean')).toMatch(
      /3\.20 bits\/element \(the policy's attention statistics included: 40\.0 KiB\)$/,
    );
  });
});
