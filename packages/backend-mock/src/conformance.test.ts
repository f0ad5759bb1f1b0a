import { describeBackendConformance } from '@qaq/backend-conformance/vitest';
import { createMockBackend } from './index.js';

describeBackendConformance('mock', () => createMockBackend());
