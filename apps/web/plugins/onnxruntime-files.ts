import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

/**
 * onnxruntime-web's runtime files (the WebAssembly binaries and their .mjs loaders) served from this app under
 * `ort/`: copied into the build, and served by the dev server from node_modules. The app points
 * `ort.env.wasm.wasmPaths` there, so nothing is fetched from a CDN.
 */
export const onnxRuntimeFileNames = [
  // The build of `onnxruntime-web/webgpu` (what @qaq/backend-web imports): it runs both the native WebGPU
  // execution provider and the wasm one. Swap in other builds here if the backend imports another entry.
  'ort-wasm-simd-threaded.asyncify.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
] as const;

export const onnxRuntimeDirectory = 'ort';

function distDirectory(): string {
  const require = createRequire(import.meta.url);
  // The package exports each runtime file by name (not its package.json): resolve one, take its folder.
  return dirname(require.resolve(`onnxruntime-web/${onnxRuntimeFileNames[0]}`));
}

export function onnxRuntimeFiles(): Plugin {
  return {
    name: 'qaq:onnxruntime-files',
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = (request.url ?? '').split('?', 1)[0] ?? '';
        const name = path.slice(path.lastIndexOf('/') + 1);
        if (!path.includes(`/${onnxRuntimeDirectory}/`) || !(onnxRuntimeFileNames as readonly string[]).includes(name)) return next();
        response.setHeader('content-type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        createReadStream(join(distDirectory(), name)).pipe(response);
      });
    },
    generateBundle() {
      const directory = distDirectory();
      for (const name of onnxRuntimeFileNames) {
        this.emitFile({ type: 'asset', fileName: `${onnxRuntimeDirectory}/${name}`, source: readFileSync(join(directory, name)) });
      }
    },
  };
}
