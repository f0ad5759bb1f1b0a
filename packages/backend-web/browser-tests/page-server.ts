// Node side of the browser checks: bundles browser-page.ts, serves it with onnxruntime-web's dist/ on 127.0.0.1.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser, startStaticServer, type StaticServer } from '@qaq/browser-testing';

const here = dirname(fileURLToPath(import.meta.url));

/** onnxruntime-web's dist/ folder (ort.webgpu.min.mjs and the asyncify WebAssembly build it loads). */
export function onnxruntimeWebDist(): string {
  const require = createRequire(join(here, '..', 'package.json'));
  return dirname(require.resolve('onnxruntime-web/webgpu'));
}

export interface PageServer {
  readonly url: string;
  readonly server: StaticServer;
  close(): Promise<void>;
}

/** Builds the page into a fresh temporary folder and serves it ('/': the page, '/ort/': onnxruntime-web). */
export async function startPageServer(): Promise<PageServer> {
  const folder = mkdtempSync(join(tmpdir(), 'qaq-backend-web-page-'));
  copyFileSync(join(here, 'index.html'), join(folder, 'index.html'));
  await bundleForBrowser({ entry: join(here, 'browser-page.ts'), outfile: join(folder, 'page.js'), external: ['onnxruntime-web/webgpu'] });
  const server = await startStaticServer({ mounts: { '/': folder, '/ort/': onnxruntimeWebDist() } });
  return {
    url: server.url,
    server,
    close: async () => {
      await server.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
