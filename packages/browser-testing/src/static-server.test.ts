import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentTypeOf } from './mime-types.js';
import { resolveRequestPath, startStaticServer, type StaticServer } from './static-server.js';

describe('startStaticServer', () => {
  const root = mkdtempSync(join(tmpdir(), 'qaq-static-'));
  const page = join(root, 'page');
  const runtime = join(root, 'runtime');
  const secret = join(root, 'secret.txt');
  let server: StaticServer;

  beforeAll(async () => {
    mkdirSync(page);
    mkdirSync(join(page, 'nested'));
    mkdirSync(runtime);
    writeFileSync(join(page, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(page, 'nested', 'index.html'), 'nested');
    writeFileSync(join(page, 'main.mjs'), 'export const answer = 42;');
    writeFileSync(join(runtime, 'ort-wasm-simd-threaded.asyncify.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    writeFileSync(join(runtime, 'page.mjs'), 'shadowed by nothing');
    writeFileSync(secret, 'do not serve');
    server = await startStaticServer({ mounts: { '/': page, '/ort/': runtime } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves .mjs as JavaScript and .wasm as application/wasm, byte for byte', async () => {
    const script = await fetch(new URL('main.mjs', server.url));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('export const answer = 42;');
    const wasm = await fetch(new URL('ort/ort-wasm-simd-threaded.asyncify.wasm', server.url));
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect([...new Uint8Array(await wasm.arrayBuffer())]).toEqual([0, 97, 115, 109, 1, 0, 0, 0]);
    // WebAssembly.compileStreaming insists on the content type; prove the response is accepted.
    // (lib ES2022 + @types/node declare WebAssembly as types only; the runtime has the value.)
    const webAssembly = (globalThis as unknown as { WebAssembly: { compileStreaming(source: Promise<Response>): Promise<object>; Module: abstract new () => object } }).WebAssembly;
    const compiled = await webAssembly.compileStreaming(fetch(new URL('ort/ort-wasm-simd-threaded.asyncify.wasm', server.url)));
    expect(compiled).toBeInstanceOf(webAssembly.Module);
  });

  it('maps folders to index.html and picks the longest mount prefix', async () => {
    expect(await (await fetch(server.url)).text()).toContain('<title>t</title>');
    expect(await (await fetch(new URL('nested/', server.url))).text()).toBe('nested');
    expect((await fetch(new URL('ort/page.mjs', server.url))).status).toBe(200);
    expect((await fetch(new URL('ort/main.mjs', server.url))).status).toBe(404);
  });

  it('answers 404 for missing files and folders without index.html, and never leaves the mounts', async () => {
    expect((await fetch(new URL('missing.js', server.url))).status).toBe(404);
    expect((await fetch(new URL('ort/', server.url))).status).toBe(404);
    expect((await fetch(`${server.url}%2e%2e/secret.txt`)).status).toBe(404);
    expect((await fetch(`${server.url}ort/%2e%2e%2f%2e%2e%2fsecret.txt`)).status).toBe(404);
    expect((await fetch(`${server.url}%E0%A4%A`)).status).toBe(404);
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await fetch(new URL('main.mjs', server.url), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('25');
    expect((await fetch(new URL('main.mjs', server.url), { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('records requests with their status', () => {
    expect(server.requests).toContainEqual({ path: '/main.mjs', status: 200 });
    expect(server.requests).toContainEqual({ path: '/missing.js', status: 404 });
  });

  it('sends COOP/COEP headers only when cross-origin isolation is asked for', async () => {
    const isolated = await startStaticServer({ mounts: { '/': page }, crossOriginIsolation: true });
    try {
      const response = await fetch(isolated.url);
      expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    } finally {
      await isolated.close();
    }
    expect((await fetch(server.url)).headers.get('cross-origin-opener-policy')).toBeNull();
  });

  it('rejects mount prefixes without slashes', async () => {
    await expect(startStaticServer({ mounts: { ort: runtime } })).rejects.toMatchObject({ code: 'invalid-option' });
    await expect(startStaticServer({ mounts: {} })).rejects.toMatchObject({ code: 'invalid-option' });
  });
});

describe('resolveRequestPath', () => {
  const mounts: [string, string][] = [['/ort/', '/srv/ort'], ['/', '/srv/page']];
  it('resolves inside the mount and refuses escapes and NUL bytes', () => {
    expect(resolveRequestPath(mounts, '/a/b.js')).toBe('/srv/page/a/b.js');
    expect(resolveRequestPath(mounts, '/ort/x.wasm')).toBe('/srv/ort/x.wasm');
    expect(resolveRequestPath(mounts, '/')).toBe('/srv/page/index.html');
    expect(resolveRequestPath(mounts, '/../etc/passwd')).toBeUndefined();
    expect(resolveRequestPath(mounts, '/ort/../../srv/page-other/x')).toBeUndefined();
    expect(resolveRequestPath(mounts, '/a%00.js')).toBeUndefined();
  });
});

describe('contentTypeOf', () => {
  it('knows the types browsers are strict about', () => {
    expect(contentTypeOf('x.MJS')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeOf('x.wasm')).toBe('application/wasm');
    expect(contentTypeOf('x.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('x.unknown')).toBe('application/octet-stream');
  });
});
