import { describe, expect, it } from 'vitest';
import { formatBits, formatBytes, formatRate } from './format.js';

describe('format', () => {
  it('formats bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(5 * 1024 * 1024 + 1)).toBe('5.00 MiB');
    expect(formatBytes(-1)).toBe('—');
  });
  it('formats bits per element and rates', () => {
    expect(formatBits(3.0512)).toBe('3.05');
    expect(formatBits(0)).toBe('—');
    expect(formatRate(null)).toBe('—');
    expect(formatRate(12.345)).toBe('12.3');
  });
});
