import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import { QaqError } from '@qaq/errors';
import { contentTypeOf } from './mime-types.js';

export interface StaticServerOptions {
  /**
   * URL path prefixes mapped to folders, e.g. { '/': 'dist/page', '/ort/': 'node_modules/onnxruntime-web/dist' }.
   * The longest matching prefix wins. Prefixes start and end with '/'.
   */
  readonly mounts: Readonly<Record<string, string>>;
  /**
   * Sends Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, which make the page
   * cross-origin isolated (SharedArrayBuffer, so WebAssembly threads). Default false.
   */
  readonly crossOriginIsolation?: boolean;
  /** Port on 127.0.0.1 (default 0: any free port). */
  readonly port?: number;
}

export interface StaticServer {
  /** The base URL, e.g. 'http://127.0.0.1:40123/'. */
  readonly url: string;
  /** Paths requested so far with their status, oldest first (for test diagnostics). */
  readonly requests: readonly { readonly path: string; readonly status: number }[];
  close(): Promise<void>;
}

function validateMounts(mounts: Readonly<Record<string, string>>): [string, string][] {
  const entries = Object.entries(mounts).map(([prefix, folder]): [string, string] => [prefix, resolve(folder)]);
  if (entries.length === 0) throw new QaqError('invalid-option', 'The static server needs at least one mount', { details: { option: 'mounts', value: mounts } });
  for (const [prefix] of entries) {
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) {
      throw new QaqError('invalid-option', `Mount prefix '${prefix}' must start and end with '/'`, { details: { option: 'mounts', value: prefix } });
    }
  }
  // Longest prefix first, so '/ort/' wins over '/'.
  return entries.sort((left, right) => right[0].length - left[0].length);
}

/** The file a URL path maps to, or undefined when it is outside every mount (including '..' escapes). */
export function resolveRequestPath(mounts: readonly [string, string][], urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  for (const [prefix, folder] of mounts) {
    if (!decoded.startsWith(prefix)) continue;
    const relative = decoded.slice(prefix.length);
    const file = resolve(folder, relative === '' || relative.endsWith('/') ? `${relative}index.html` : relative);
    return file === folder || file.startsWith(folder + sep) ? file : undefined;
  }
  return undefined;
}

/**
 * A static file server on 127.0.0.1 for browser tests: correct content types (.mjs as JavaScript, .wasm as
 * application/wasm), GET and HEAD only, no directory listings, nothing outside the mounted folders, no caching.
 */
export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const mounts = validateMounts(options.mounts);
  const requests: { path: string; status: number }[] = [];

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const finish = (status: number, message?: string): void => {
      requests.push({ path, status });
      response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(message ?? '');
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return finish(405, 'method not allowed');
    const file = resolveRequestPath(mounts, path);
    if (file === undefined) return finish(404, 'not found');
    const stats = await stat(file).catch(() => undefined);
    if (stats === undefined || !stats.isFile()) return finish(404, 'not found');
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeOf(file),
      'Content-Length': stats.size,
      'Cache-Control': 'no-store',
    };
    if (options.crossOriginIsolation === true) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    requests.push({ path, status: 200 });
    response.writeHead(200, headers);
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(file).on('error', () => response.destroy()).pipe(response);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolveClose, rejectClose) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolveClose() : rejectClose(error)));
      }),
  };
}
