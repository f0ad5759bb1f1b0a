import type { Backend } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { describe, expect, it } from 'vitest';
import { checkRejects, ConformanceFailure } from './assertions.js';
import { conformanceChecks } from './checks/index.js';
import { fixtureModel } from './fixtures.js';
import { runConformanceChecks, skipReason } from './run-checks.js';

const unusable: Backend = {
  specificationVersion: 'v1',
  name: 'unusable',
  capabilities: { providers: ['cpu'], supportsPreallocatedOutputs: false, supportsGpuBufferOutputs: false, dataTypes: ['float32'], operators: ['Add'] },
  probe: async () => [{ name: 'cpu', available: true }],
  createSession: async () => {
    throw new Error('not implemented');
  },
  createTensor: () => {
    throw new Error('not implemented');
  },
};

describe('runConformanceChecks', () => {
  it('reports failures, and skips what the capabilities do not claim', async () => {
    const results = await runConformanceChecks(() => unusable);
    const byStatus = (status: string) => results.filter((result) => result.status === status).map((result) => result.id);
    expect(byStatus('passed')).toEqual(['backend-shape', 'probe-shape']);
    expect(byStatus('skipped')).toEqual(['matmul-numerics', 'softmax-numerics', 'round-trip-data-types', 'preallocated-outputs', 'fetch-subset']);
    expect(byStatus('failed')).toEqual(['create-tensor', 'add-numerics', 'caller-buffer-views', 'invalid-model', 'unknown-provider', 'invalid-feeds', 'session-disposed']);
    expect(skipReason(conformanceChecks.find((check) => check.id === 'add-numerics')!, unusable, { skip: { 'add-numerics': 'later' } })).toBe('later');
  });
});

describe('checkRejects', () => {
  it('accepts only a QaqError with the expected code', async () => {
    await expect(checkRejects(() => Promise.reject(new QaqError('invalid-feed', 'x')), 'invalid-feed', 'case')).resolves.toBeInstanceOf(QaqError);
    await expect(checkRejects(() => Promise.reject(new QaqError('run-failed', 'x')), 'invalid-feed', 'case')).rejects.toBeInstanceOf(ConformanceFailure);
    await expect(checkRejects(() => Promise.reject(new Error('x')), 'invalid-feed', 'case')).rejects.toBeInstanceOf(ConformanceFailure);
    await expect(checkRejects(() => undefined, 'invalid-feed', 'case')).rejects.toThrow(/nothing was thrown/);
  });
});

describe('fixtureModel', () => {
  it('returns a fresh copy of ONNX bytes each time', () => {
    const first = fixtureModel('add');
    first[0] = 0;
    expect(fixtureModel('add')[0]).toBe(0x08); // ModelProto field 1 (ir_version), varint
  });
});
