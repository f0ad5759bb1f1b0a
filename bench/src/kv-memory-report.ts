import type { KvComponents } from './kv-breakdown.js';
import type { KvMemoryResult } from './kv-memory-job.js';

/** A job that produced no result (timed out or failed), kept so the table says so. */
export interface KvMemoryMiss {
  readonly model: string;
  readonly kv: string;
  readonly contextTokens: number;
  readonly reason: string;
  readonly cpuArena?: string;
}

/** The method as printed: onnxruntime's arena choice is added where it is not the default. */
function methodLabel(name: string, cpuArena: string | undefined): string {
  return cpuArena === undefined || cpuArena === 'default' ? name : `${name} (ORT CPU arena ${cpuArena})`;
}

const mebibytes = (bytes: number): string => (bytes / 2 ** 20).toFixed(2);

/** The largest live components of a breakdown as "codes 71%, scales+minima 22%, …" (shares of `bytes`). */
export function dominantComponents(parts: KvComponents, liveBytes: number, count = 3): string {
  if (liveBytes <= 0) return '';
  const named: [string, number][] = [
    ['codes', parts.codeBytes],
    ['scales+minima', parts.scaleBytes + parts.minimumBytes],
    ['bit tags', parts.bitWidthTagBytes],
    ['slot indices', parts.slotIndexBytes],
    ['outliers', parts.outlierValueBytes + parts.outlierPositionBytes],
    ['fp16 recent/residual', parts.recentWindowBytes],
    ['promotion tier', parts.promotionTierBytes],
  ];
  return named
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `${name} ${((100 * bytes) / liveBytes).toFixed(0)}%`)
    .join(', ');
}

/** Live groups per bit width as "3:41% 4:30% …" over keys and values together. */
export function bitWidthShares(result: KvMemoryResult): string {
  const widths = result.breakdown?.bitWidths;
  if (widths === null || widths === undefined) return '';
  const counts = new Map<string, number>();
  for (const table of [widths.keys, widths.values]) {
    for (const [bits, count] of Object.entries(table)) counts.set(bits, (counts.get(bits) ?? 0) + count);
  }
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  if (total === 0) return '';
  return [...counts.entries()]
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([bits, count]) => `${bits}b ${((100 * count) / total).toFixed(0)}%`)
    .join(' ');
}

export function kvMemoryTable(results: readonly KvMemoryResult[], misses: readonly KvMemoryMiss[]): string {
  const lines = [
    '| model | context | method | KV MiB (live) | KV MiB held (live + slack) | held ÷ live | kernel arena peak MiB | fp16-equiv. MiB | bits/element | vs fp16 (live) | vs fp16 (held) | peak RSS MB | decode tok/s (median step) | prefill tok/s | largest live components | group widths |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const result of results) {
    const { memory } = result;
    const held = memory.bytes + memory.slackBytes;
    const parts = result.breakdown === null ? '' : dominantComponents(result.breakdown.components, memory.bytes);
    const arena = result.kernelArena === undefined || result.kernelArena === null ? '—' : mebibytes(result.kernelArena.peakBytes);
    lines.push(
      `| ${result.model} | ${result.contextTokens} | ${methodLabel(result.methodName, result.cpuArena)} | ${mebibytes(memory.bytes)} | ${mebibytes(held)} | ` +
        `${memory.bytes === 0 ? '—' : (held / memory.bytes).toFixed(2)} | ${arena} | ` +
        `${mebibytes(memory.fp16Bytes)} | ${memory.bitsPerElement.toFixed(2)} | ${result.compressionVersusFp16.toFixed(2)}× | ` +
        `${(memory.fp16Bytes / held).toFixed(2)}× | ` +
        `${result.peakResidentMegabytes.toFixed(0)} | ${(1000 / result.decodeMedianMilliseconds).toFixed(1)} | ` +
        `${result.prefillTokensPerSecond.toFixed(0)} | ${parts} | ${bitWidthShares(result)} |`,
    );
  }
  for (const miss of misses) {
    lines.push(`| ${miss.model} | ${miss.contextTokens} | ${methodLabel(miss.kv, miss.cpuArena)} | not measured: ${miss.reason} | | | | | | | | | | | | |`);
  }
  return lines.join('\n');
}
