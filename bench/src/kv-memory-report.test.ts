import { describe, expect, it } from 'vitest';
import type { KvComponents } from './kv-breakdown.js';
import { componentTable, compressionGoal, heldComparison, loadCaveat, qaqVerdict, speedVerdict, type KvMemoryEnvironment } from './kv-memory-document.js';
import type { KvMemoryResult } from './kv-memory-job.js';
import { bitWidthShares, dominantComponents, kvMemoryTable } from './kv-memory-report.js';

const zero: KvComponents = {
  codeBytes: 0,
  scaleBytes: 0,
  minimumBytes: 0,
  bitWidthTagBytes: 0,
  slotIndexBytes: 0,
  outlierValueBytes: 0,
  outlierPositionBytes: 0,
  recentWindowBytes: 0,
  promotionTierBytes: 0,
  slackBytes: 0,
  bookkeepingBytes: 0,
  scratchBytes: 0,
};

function result(methodName: string, bytes: number, fp16Bytes: number, components: KvComponents | null): KvMemoryResult {
  return {
    model: 'smollm2-135m',
    kv: methodName,
    methodName,
    contextTokens: 2048,
    cachedTokens: 2063,
    memory: { bytes, slackBytes: bytes / 100, fp16Bytes, elements: fp16Bytes / 2, bitsPerElement: (8 * bytes) / (fp16Bytes / 2) },
    compressionVersusFp16: fp16Bytes / bytes,
    breakdown: components === null ? null : { cache: 'compact', components, bitWidths: { keys: { '4': 3, '2': 1 }, values: { '4': 4 } } },
    loadSeconds: 1,
    prefillTokens: 2047,
    prefillSeconds: 10,
    prefillTokensPerSecond: 204.7,
    decodeSteps: 16,
    decodeSeconds: 1,
    decodeTokensPerSecond: 16,
    decodeMedianMilliseconds: 50,
    decodedTokens: [],
    peakResidentMegabytes: 800,
  };
}

describe('dominantComponents', () => {
  it('names the largest live components as shares of the live bytes, largest first', () => {
    const parts = { ...zero, codeBytes: 500, scaleBytes: 50, minimumBytes: 50, outlierValueBytes: 250, outlierPositionBytes: 50, slotIndexBytes: 100, slackBytes: 9999 };
    expect(dominantComponents(parts, 1000)).toBe('codes 50%, outliers 30%, scales+minima 10%');
    expect(dominantComponents(parts, 1000, 1)).toBe('codes 50%');
    expect(dominantComponents(parts, 0)).toBe('');
  });
});

describe('bitWidthShares', () => {
  it('sums keys and values per width, in width order', () => {
    expect(bitWidthShares(result('qaq:quality', 100, 800, zero))).toBe('2b 13% 4b 88%');
    expect(bitWidthShares(result('fp32', 100, 50, null))).toBe('');
  });
});

describe('kvMemoryTable and qaqVerdict', () => {
  it('prints one row per result and per miss, with the ratio against fp16', () => {
    const table = kvMemoryTable([result('qaq:quality', 2 ** 20, 6 * 2 ** 20, { ...zero, codeBytes: 2 ** 20 })], [
      { model: 'gemma3-270m', kv: 'kivi:2', contextTokens: 8192, reason: 'skipped' },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    // live 1 MiB, held 1.01 MiB (slack 1 %), no kernel arena figure, fp16 6 MiB.
    expect(lines[2]).toContain('| 1.00 | 1.01 | 1.01 | — | 6.00 | ');
    expect(lines[2]).toContain('| 6.00× | 5.94× |');
    const withArena = kvMemoryTable([{ ...result('qaq:quality', 2 ** 20, 6 * 2 ** 20, null), kernelArena: { peakBytes: 3 * 2 ** 20, liveBytes: 0, freeBytes: 0, memoryBytes: 0 } }], []);
    expect(withArena.split('\n')[2]).toContain('| 1.01 | 3.00 | 6.00 |');
    expect(lines[3]).toContain('not measured: skipped');
  });

  it('says whether each QAQ row meets the goal', () => {
    const meets = result('qaq:compact', 100, 100 * compressionGoal, { ...zero, codeBytes: 100 });
    const misses = result('qaq:quality', 100, 400, { ...zero, codeBytes: 100 });
    const verdict = qaqVerdict([meets, misses, result('fp16', 100, 100, null)]);
    expect(verdict).toMatch(/^Only in 1 of 2 QAQ rows: the live bytes are at least 5× below fp16/);
    expect(verdict).toContain('`qaq:compact`: 5.00× smaller than fp16 (3.20 bits/element) — meets');
    expect(verdict).toContain('`qaq:quality`: 4.00× smaller than fp16 (4.00 bits/element) — misses');
    expect(qaqVerdict([])).toBe('No QAQ row was measured in this run.');
  });
});

describe('speedVerdict', () => {
  it('compares each QAQ row with fp32 and ort-int4 at the same model and context by the median step', () => {
    const qaq = { ...result('qaq:quality', 100, 800, null), decodeMedianMilliseconds: 100 };
    const dense = { ...result('fp32', 100, 800, null), decodeMedianMilliseconds: 50 };
    const int4 = { ...result('ort-int4', 100, 800, null), decodeMedianMilliseconds: 125 };
    const elsewhere = { ...result('fp32', 100, 800, null), contextTokens: 8192, decodeMedianMilliseconds: 10 };
    expect(speedVerdict([qaq, dense, int4, elsewhere])).toBe(
      'smollm2-135m at 2048 tokens, `qaq:quality` 10.0 tok/s = 0.50× `fp32` (20.0 tok/s): misses; 1.25× `ort-int4` (8.0 tok/s): holds.',
    );
    expect(speedVerdict([qaq])).toMatch(/^No QAQ row has a baseline/);
  });
});

describe('loadCaveat', () => {
  it('warns only when a run was measured at more than twice its threads of load', () => {
    const run = (load: number): KvMemoryEnvironment => ({
      date: '', command: '', cpu: '', loadAverage1mBefore: 1, loadAverage1mAfter: load, node: '', book: '', decodeSteps: 16, threads: 2, prefillChunk: 512, wallSeconds: 1,
    });
    expect(loadCaveat([run(3)])).toBe('');
    expect(loadCaveat([run(3), run(24.2)])).toMatch(/^\*\*Caution:\*\* the load average reached 24\.2 during these runs \(2 intra-op threads/);
  });
});

describe('heldComparison', () => {
  it('prints before → now for rows measured in both runs and says so when none are', () => {
    const before = { ...result('qaq:quality', 2 ** 20, 6 * 2 ** 20, null), memory: { ...result('qaq:quality', 2 ** 20, 6 * 2 ** 20, null).memory, slackBytes: 2 ** 21 }, peakResidentMegabytes: 1800 };
    const now = result('qaq:quality', 2 ** 20, 6 * 2 ** 20, null);
    const lines = heldComparison({ label: 'before', results: [before] }, [now, result('fp16', 2 ** 20, 2 ** 20, null)]).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('| smollm2-135m | 2048 | qaq:quality | 1.00 | 3.00 → 1.01 | 3.00 → 1.01 | 2.00× → 5.94× | 1800 → 800 | 20.0 → 20.0 |');
    expect(heldComparison({ label: 'before', results: [] }, [now])).toBe('No row of this run was also measured in before.');
  });
});

describe('componentTable', () => {
  it('gives bits per live element per component and skips rows without components', () => {
    const parts = { ...zero, codeBytes: 2 ** 20, outlierValueBytes: 2 ** 18 };
    const lines = componentTable([result('qaq:quality', 1.25 * 2 ** 20, 6 * 2 ** 20, parts), result('fp32', 100, 50, null)]).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('| smollm2-135m | 2048 | qaq:quality | 2.667 | 0.000 | 0.000 | 0.000 | 0.667 | 0.000 | 0.000 | 3.333 |');
  });
});
