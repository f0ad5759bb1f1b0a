import type { BitWidthMap } from './bit-width-map.js';
import type { ReportRecord } from './report-record.js';

/** A record of the contract's shape with plausible figures; `overrides` sets what a test is about. */
export function fixtureRecord(method: string, overrides: Partial<ReportRecord> = {}): ReportRecord {
  const bits = overrides.bits_per_element ?? 4;
  const kvBytesFp16 = 2048 * 30 * 2 * 3 * 64 * 2;
  return {
    model: 'smollm2-135m',
    method,
    tokens: 8192,
    context: 2048,
    ppl: 12.5,
    ppl_reference: 12.4,
    kl_mean: 0.01,
    kl_p99: 0.12,
    top1_agreement: 0.96,
    bits_per_element: bits,
    compression_ratio: 16 / bits,
    kv_bytes: (kvBytesFp16 * bits) / 16,
    kv_bytes_fp16: kvBytesFp16,
    decode_tokens_per_s: 9.5,
    peak_rss_bytes: 900 * 2 ** 20,
    ...overrides,
  };
}

/** A bit-width map like QAQ's: fp16 for the recent window, fewer bits for older positions, keys above values. */
export function fixtureBitWidthMap(layers: number, tokens: number): BitWidthMap {
  const row = (base: number): number[] =>
    Array.from({ length: tokens }, (_, position) => (position >= tokens - 32 ? 16 : base + ((position * 7) % 3)));
  return {
    layers,
    tokens,
    keyBits: Array.from({ length: layers }, (_, layer) => row(2 + (layer % 3))),
    valueBits: Array.from({ length: layers }, () => row(2)),
  };
}
