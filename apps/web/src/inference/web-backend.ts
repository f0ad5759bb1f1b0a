import { createWebBackend, type WebBackend } from '@qaq/backend-web';
import type { ProviderChoice } from '../app-options.js';

/** Execution providers to ask for, in preference order. */
export function providersFor(choice: ProviderChoice): ('webgpu' | 'wasm')[] {
  switch (choice) {
    case 'auto':
      return ['webgpu', 'wasm'];
    case 'webgpu':
      return ['webgpu'];
    case 'wasm':
      return ['wasm'];
  }
}

/**
 * Where onnxruntime-web's .wasm/.mjs files are served: copied into `ort/` of the build by the Vite plugin
 * (plugins/onnxruntime-files.ts), next to index.html, so nothing comes from a CDN and the service worker can cache them.
 */
export function onnxRuntimeFilesUrl(): string {
  return new URL('ort/', globalThis.document?.baseURI ?? globalThis.location.href).href;
}

/**
 * The template's one backend seam: swap this function to run the same app on another @qaq/backend-spec backend.
 * The backend probes the providers when created (a real WebGPU adapter, a one-node model on each) and sessions run
 * on the first that works.
 */
export function createBrowserBackend(choice: ProviderChoice): Promise<WebBackend> {
  return createWebBackend({ providers: providersFor(choice), wasmPaths: onnxRuntimeFilesUrl() });
}
