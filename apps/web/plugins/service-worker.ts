import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';

/**
 * Emits `sw.js`: the service worker template with the list of every file of the build (pages, hashed assets,
 * onnxruntime-web's files) and a version derived from their names and sizes, so a new build replaces the old cache.
 */
export function serviceWorker(): Plugin {
  return {
    name: 'qaq:service-worker',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((fileName) => !fileName.endsWith('.map'))
        .sort();
      const precache = ['./', ...files];
      const hash = createHash('sha256');
      for (const fileName of files) {
        const item = bundle[fileName];
        const size = item === undefined ? 0 : item.type === 'chunk' ? item.code.length : typeof item.source === 'string' ? item.source.length : item.source.byteLength;
        hash.update(`${fileName}:${size}\n`);
      }
      const template = readFileSync(new URL('./service-worker.template.js', import.meta.url), 'utf8');
      const source = template
        .replace('__PRECACHE__', JSON.stringify(precache))
        .replace('__VERSION__', JSON.stringify(hash.digest('hex').slice(0, 12)));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}
