// onnxruntime-web's WebAssembly module binds `console.error` when it loads (`printErr = console.error.bind(console)`)
// and prints onnxruntime's log through it in browsers. To read the log in the page — node placement at session
// creation — a forwarding wrapper must be in place before that module loads, i.e. before the page's first session.
// In Node the module writes to process.stderr instead, which this cannot see.

type ConsoleError = (...values: unknown[]) => void;

let installed: { capture: string[] | undefined; original: ConsoleError } | undefined;

/** Whether the wrapper is installed (it stays for the page's lifetime once installed). */
export function logCaptureInstalled(): boolean {
  return installed !== undefined;
}

/** Puts the forwarding wrapper on `console.error`; idempotent. Everything still reaches the console unless captured. */
export function installLogCapture(): void {
  if (installed !== undefined) return;
  const original: ConsoleError = console.error.bind(console);
  const state: { capture: string[] | undefined; original: ConsoleError } = { capture: undefined, original };
  console.error = (...values: unknown[]): void => {
    const capture = state.capture;
    if (capture !== undefined) {
      capture.push(values.map(String).join(' '));
      return;
    }
    original(...values);
  };
  installed = state;
}

/**
 * Runs `action` and returns, with its result, the lines printed to `console.error` meanwhile — kept off the
 * console (a verbose session log is hundreds of lines) unless `action` fails, when they are printed after all.
 * Callers serialize captures (sessions are created one at a time), so lines belong to this action.
 */
export async function captureLog<T>(action: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  if (installed === undefined) throw new Error('log capture is not installed');
  const state = installed;
  const lines: string[] = [];
  state.capture = lines;
  try {
    return { result: await action(), lines };
  } catch (error) {
    state.capture = undefined;
    for (const line of lines) state.original(line);
    throw error;
  } finally {
    state.capture = undefined;
  }
}
