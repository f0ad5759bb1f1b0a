import { describeBackendConformance } from '@qaq/backend-conformance/vitest';
import { createNodeBackend } from './index.js';

// One backend for the file: probes (which load a session per provider) are cached per backend.
const backend = createNodeBackend();

describeBackendConformance('onnxruntime-node (cpu)', () => backend, { sessionOptions: { executionProviders: ['cpu'] } });
