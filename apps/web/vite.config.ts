import { defaultClientConditions, defineConfig } from 'vite';
import { onnxRuntimeFiles } from './plugins/onnxruntime-files.js';
import { serviceWorker } from './plugins/service-worker.js';

// The @qaq/* workspace packages are bundled from their TypeScript sources (the "source" exports condition).
// `onnxruntime-web-use-extern-wasm` picks onnxruntime-web's entries that load their .mjs/.wasm from
// `ort.env.wasm.wasmPaths` (our ort/ folder) instead of embedding them, so the 27 MB binary is in the build once.
export default defineConfig(({ command }) => ({
  // Relative URLs: the build runs from any path (a sub-folder, a test server's root).
  base: './',
  resolve: { conditions: ['source', 'onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: { main: 'index.html', measure: 'measure.html' },
      output: { chunkFileNames: 'assets/qaq-[hash].js' },
    },
  },
  // onnxruntime-web loads its own .mjs/.wasm at run time from ort/ (see plugins/onnxruntime-files.ts).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  // Order matters: the service worker lists every file, including those the first plugin adds.
  plugins: [onnxRuntimeFiles(), serviceWorker()],
  // The service worker exists only in builds (plugins/service-worker.ts); `vite dev` must not register one.
  define: { __QAQ_SERVICE_WORKER__: JSON.stringify(command === 'build') },
}));
