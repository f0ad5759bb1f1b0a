/** 1536 → "1.5 KiB"; binary units, three significant digits. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toPrecision(3)} ${units[unit]}`;
}

/** Two decimals for bits per element ("3.05"), a dash when there is nothing cached. */
export function formatBits(bitsPerElement: number): string {
  return Number.isFinite(bitsPerElement) && bitsPerElement > 0 ? bitsPerElement.toFixed(2) : '—';
}

export function formatRate(tokensPerSecond: number | null): string {
  return tokensPerSecond === null || !Number.isFinite(tokensPerSecond) ? '—' : tokensPerSecond.toFixed(1);
}
