/** One KV method at one context on one provider: measured, or why not. */
export type DeviceCheckRow =
  | {
      readonly status: 'measured';
      readonly method: string;
      readonly context: number;
      readonly provider: string;
      readonly prefillTokensPerSecond: number;
      readonly decodeTokensPerSecond: number;
      readonly decodeMedianMilliseconds: number;
      /** KV bytes held for the live tokens (the cache's accounting), and what fp16 would hold. */
      readonly kvBytes: number;
      readonly kvFp16Bytes: number;
      readonly kvSlackBytes: number;
      /** Bytes fed to and fetched from the sessions per decode step (host↔device copies on a GPU provider). */
      readonly transferBytesPerStep: number;
      readonly runsPerStep: number;
      /**
       * Where attention ran: 'wasm-kernel' or 'graph' (the runtime's strategies, segmented methods), 'in-graph' (the
       * decoder's own attention: ort-int4/ort-int8, fp32). The table names it only when it is 'graph'.
       */
      readonly attention?: string;
    }
  | { readonly status: 'unavailable' | 'failed' | 'skipped'; readonly method: string; readonly context: number; readonly provider: string; readonly reason: string };

const mebibyte = 2 ** 20;

function bytes(value: number): string {
  return value >= mebibyte ? `${(value / mebibyte).toFixed(2)} MiB` : `${(value / 1024).toFixed(1)} KiB`;
}

/** The table the device check prints: decode tokens/s and KV bytes per method and context. */
export function formatDeviceCheckTable(rows: readonly DeviceCheckRow[]): string {
  const header = ['method', 'context', 'provider', 'decode tok/s', 'median step ms', 'KV bytes', 'fp16 KV', 'vs fp16', 'copied/step', 'runs/step', 'prefill tok/s'];
  const lines = rows.map((row) => {
    if (row.status !== 'measured') return [row.method, String(row.context), row.provider, `${row.status}: ${row.reason}`];
    return [
      row.attention === 'graph' ? `${row.method} (graph attention)` : row.method,
      String(row.context),
      row.provider,
      row.decodeTokensPerSecond.toFixed(1),
      row.decodeMedianMilliseconds.toFixed(2),
      bytes(row.kvBytes),
      bytes(row.kvFp16Bytes),
      row.kvBytes === 0 ? '-' : `${(row.kvFp16Bytes / row.kvBytes).toFixed(2)}×`,
      bytes(row.transferBytesPerStep),
      row.runsPerStep.toFixed(0),
      row.prefillTokensPerSecond.toFixed(0),
    ];
  });
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
