import { describeBackendConformance } from '@qaq/backend-conformance/vitest';
import { createWebBackend } from './index.js';

// In Node onnxruntime-web's WebAssembly provider runs as it does in a browser; WebGPU has no navigator.gpu here
// (the browser suite, `pnpm test:browser`, covers it). One backend for the file: probes run once, at creation.
const backend = await createWebBackend({ providers: ['wasm'], numThreads: 1 });

describeBackendConformance('onnxruntime-web (wasm, in Node)', () => backend, { sessionOptions: { executionProviders: ['wasm'] } });
