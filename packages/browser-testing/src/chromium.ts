import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { QaqError } from '@qaq/errors';

/** Debian's Chromium (scripts/ensure-chromium.sh installs it); `QAQ_CHROMIUM_PATH` overrides. Never a downloaded browser. */
export function chromiumExecutablePath(): string {
  return process.env['QAQ_CHROMIUM_PATH'] ?? '/usr/bin/chromium';
}

/** Whether the Chromium executable is there; tests that need it skip (or fail, in `pnpm test:browser`) without it. */
export function chromiumAvailable(path = chromiumExecutablePath()): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * 'webgpu': WebGPU on, pinned to the SwiftShader software adapter (the same adapter on every machine, GPU or not;
 * no shader-f16, so fp32 graphs only). 'webgpu-hardware': WebGPU on, the browser's own adapter choice.
 * 'plain': no WebGPU flags — `requestAdapter()` returns null on Linux, so pages fall back to WebAssembly.
 */
export type BrowserMode = 'webgpu' | 'webgpu-hardware' | 'plain';

/** The extra switches for a mode (on top of Playwright's own headless defaults). */
export function chromiumArguments(mode: BrowserMode): string[] {
  const quiet = ['--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
  switch (mode) {
    case 'webgpu':
      return [...quiet, '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];
    case 'webgpu-hardware':
      return [...quiet, '--enable-unsafe-webgpu'];
    case 'plain':
      return quiet;
  }
}

export interface LaunchOptions {
  readonly mode: BrowserMode;
  readonly executablePath?: string;
  readonly extraArguments?: readonly string[];
}

/** Launches headless Chromium through playwright-core. Throws QaqError('browser-missing') when it is not installed. */
export async function launchChromium(options: LaunchOptions): Promise<Browser> {
  const executablePath = options.executablePath ?? chromiumExecutablePath();
  if (!chromiumAvailable(executablePath)) {
    throw new QaqError('browser-missing', `No Chromium at ${executablePath}: run scripts/ensure-chromium.sh (apt-get install chromium)`, {
      details: { executablePath },
    });
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...chromiumArguments(options.mode), ...(options.extraArguments ?? [])],
  });
}
