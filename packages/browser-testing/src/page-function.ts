import type { Page } from 'playwright-core';
import { QaqError } from '@qaq/errors';

export interface PageFunctionOptions {
  /** How long to wait for the page to define the function and for it to settle (default 120 s). */
  readonly timeoutMs?: number;
}

/**
 * Calls `globalThis[name](argument)` in the page — a function the page's script defined for the test — and returns
 * its (awaited, JSON-serializable) result. Waits for the function to appear first. A rejection in the page becomes
 * QaqError('page-function-failed') carrying the page's message; a timeout, QaqError('page-function-timeout').
 */
export async function runPageFunction<Result>(page: Page, name: string, argument?: unknown, options: PageFunctionOptions = {}): Promise<Result> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  try {
    await page.waitForFunction((functionName) => typeof (globalThis as Record<string, unknown>)[functionName] === 'function', name, { timeout: timeoutMs });
  } catch (error) {
    throw new QaqError('page-function-timeout', `The page did not define globalThis.${name} within ${timeoutMs} ms`, {
      details: { name, timeoutMs },
      cause: error,
    });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QaqError('page-function-timeout', `globalThis.${name}() did not settle within ${timeoutMs} ms`, { details: { name, timeoutMs } })), timeoutMs);
  });
  try {
    const call = page.evaluate(
      async ([functionName, value]) => {
        const target = (globalThis as Record<string, unknown>)[functionName as string] as (input: unknown) => unknown;
        return target(value);
      },
      [name, argument] as const,
    );
    return (await Promise.race([call, timeout])) as Result;
  } catch (error) {
    if (error instanceof QaqError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new QaqError('page-function-failed', `globalThis.${name}() failed in the page: ${message}`, { details: { name }, cause: error });
  } finally {
    clearTimeout(timer);
  }
}
