import { check, checkEqual, checkRejects, checkSameList } from '../assertions.js';
import type { ConformanceCheck } from '../check.js';

const reasons = ['missing-library', 'missing-driver', 'missing-adapter', 'not-supported', 'probe-failed'];

export const apiShapeChecks: ConformanceCheck[] = [
  {
    id: 'backend-shape',
    title: "declares specificationVersion 'v1', a name and its capabilities",
    fixtures: [],
    async run({ backend }) {
      checkEqual(backend.specificationVersion, 'v1', 'specificationVersion');
      check(typeof backend.name === 'string' && backend.name.length > 0, 'name must be a non-empty string');
      const capabilities = backend.capabilities;
      check(Array.isArray(capabilities.providers) && capabilities.providers.length > 0, 'capabilities.providers must list providers');
      check(typeof capabilities.supportsPreallocatedOutputs === 'boolean', 'supportsPreallocatedOutputs must be boolean');
      check(typeof capabilities.supportsGpuBufferOutputs === 'boolean', 'supportsGpuBufferOutputs must be boolean');
      check(capabilities.dataTypes.includes('float32'), "capabilities.dataTypes must include 'float32'");
    },
  },
  {
    id: 'probe-shape',
    title: 'probe() reports every provider with availability, and a reason, what is missing and details when unavailable',
    fixtures: [],
    async run({ backend }) {
      const probes = await backend.probe();
      check(Array.isArray(probes) && probes.length > 0, 'probe() must report at least one provider');
      const names = probes.map((probe) => probe.name);
      checkEqual(new Set(names).size, names.length, 'probe() provider names must be unique; count');
      check(probes.some((probe) => probe.available), 'at least one provider must be available where the suite runs');
      for (const probe of probes) {
        check(typeof probe.name === 'string' && probe.name.length > 0, 'each probe needs a provider name');
        check(backend.capabilities.providers.includes(probe.name), `probe '${probe.name}' is not in capabilities.providers`);
        if (probe.available) continue;
        check(reasons.includes(probe.reason), `probe '${probe.name}' has an unknown reason '${String(probe.reason)}'`);
        check(Array.isArray(probe.missing), `probe '${probe.name}' must list what is missing`);
        check(typeof probe.details === 'string' && probe.details.length > 0, `probe '${probe.name}' must explain itself in details`);
      }
    },
  },
  {
    id: 'create-tensor',
    title: 'createTensor wraps the caller array without copying and rejects data that does not fit',
    fixtures: [],
    async run({ backend }) {
      const data = new Float32Array([1, 2, 3, 4, 5, 6]);
      const tensor = backend.createTensor('float32', data, [2, 3]);
      check(tensor.data === data, 'createTensor must keep the caller array itself as data (no copy)');
      checkEqual(tensor.dataType, 'float32', 'dataType');
      checkSameList(tensor.dimensions, [2, 3], 'dimensions');
      checkEqual(tensor.size, 6, 'size');
      checkEqual(tensor.location, 'cpu', 'location');
      check((await tensor.read()) === data, 'read() of a CPU tensor must return its data');
      const scalar = backend.createTensor('int32', new Int32Array([7]), []);
      checkEqual(scalar.size, 1, 'scalar size');
      await checkRejects(() => backend.createTensor('float32', new Float32Array(5), [2, 3]), 'invalid-tensor', 'element count mismatch');
      await checkRejects(() => backend.createTensor('float32', new Int32Array(6) as unknown as Float32Array, [2, 3]), 'invalid-tensor', 'array type mismatch');
      await checkRejects(() => backend.createTensor('float32', new Float32Array(6), [2, -3]), 'invalid-tensor', 'negative dimension');
      tensor.dispose();
      check(tensor.disposed, 'disposed must be true after dispose()');
      await checkRejects(() => tensor.read(), 'tensor-disposed', 'read() after dispose()');
    },
  },
];
