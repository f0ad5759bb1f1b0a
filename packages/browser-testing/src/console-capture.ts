import type { Page } from 'playwright-core';

/** One console message or uncaught page error, as the page produced it. */
export interface ConsoleEntry {
  /** 'log', 'info', 'warning', 'error', 'debug', ... or 'pageerror' for uncaught exceptions. */
  readonly type: string;
  readonly text: string;
}

export interface ConsoleCapture {
  readonly entries: readonly ConsoleEntry[];
  /** Every message's text, in order (multi-line messages stay one entry). */
  texts(): string[];
  /** Messages whose text matches `pattern`. */
  matching(pattern: RegExp): ConsoleEntry[];
  /** Forgets what was captured so far (e.g. between two runs on one page). */
  clear(): void;
  stop(): void;
}

/** Records a page's console messages and uncaught errors from now on (Chromium forwards them over CDP). */
export function captureConsole(page: Page): ConsoleCapture {
  const entries: ConsoleEntry[] = [];
  const onConsole = (message: { type(): string; text(): string }): void => {
    entries.push({ type: message.type(), text: message.text() });
  };
  const onPageError = (error: Error): void => {
    entries.push({ type: 'pageerror', text: error.stack ?? error.message });
  };
  page.on('console', onConsole);
  page.on('pageerror', onPageError);
  return {
    entries,
    texts: () => entries.map((entry) => entry.text),
    matching: (pattern) => entries.filter((entry) => pattern.test(entry.text)),
    clear: () => {
      entries.length = 0;
    },
    stop: () => {
      page.off('console', onConsole);
      page.off('pageerror', onPageError);
    },
  };
}
