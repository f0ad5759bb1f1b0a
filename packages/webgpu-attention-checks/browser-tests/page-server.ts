// Node side of the browser checks: bundles page.ts and serves it with onnxruntime-web's dist/ on 127.0.0.1
// (and, when asked, the model folder under /models/).
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser, startStaticServer, type StaticServer } from '@qaq/browser-testing';

const here = dirname(fileURLToPath(import.meta.url));

/** onnxruntime-web's dist/ folder (ort.webgpu.min.mjs and the WebAssembly build it loads). */
function onnxruntimeWebDist(): string {
  const require = createRequire(join(here, '..', 'package.json'));
  return dirname(require.resolve('onnxruntime-web/webgpu'));
}

export interface PageServer {
  readonly url: string;
  readonly server: StaticServer;
  close(): Promise<void>;
}

export async function startPageServer(extraMounts: Readonly<Record<string, string>> = {}): Promise<PageServer> {
  const folder = mkdtempSync(join(tmpdir(), 'qaq-webgpu-attention-page-'));
  copyFileSync(join(here, 'index.html'), join(folder, 'index.html'));
  await bundleForBrowser({ entry: join(here, 'page.ts'), outfile: join(folder, 'page.js'), external: ['onnxruntime-web/webgpu'] });
  const server = await startStaticServer({ mounts: { '/': folder, '/ort/': onnxruntimeWebDist(), ...extraMounts } });
  return {
    url: server.url,
    server,
    close: async () => {
      await server.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
