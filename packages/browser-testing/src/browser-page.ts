import type { Browser, Page } from 'playwright-core';
import { launchChromium, type BrowserMode } from './chromium.js';
import { captureConsole, type ConsoleCapture } from './console-capture.js';

export interface BrowserPage {
  readonly browser: Browser;
  readonly page: Page;
  readonly console: ConsoleCapture;
  readonly mode: BrowserMode;
  /** Saves a PNG of the whole page. */
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Launches Chromium in `mode`, opens `url` with console capture from the first script on, and waits for 'load'. */
export async function openBrowserPage(url: string, mode: BrowserMode, options: { timeoutMs?: number } = {}): Promise<BrowserPage> {
  const browser = await launchChromium({ mode });
  try {
    const page = await browser.newPage();
    const capture = captureConsole(page);
    await page.goto(url, { waitUntil: 'load', timeout: options.timeoutMs ?? 60_000 });
    return {
      browser,
      page,
      console: capture,
      mode,
      screenshot: async (path) => {
        await page.screenshot({ path, fullPage: true });
      },
      close: async () => {
        capture.stop();
        await browser.close();
      },
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
