// Checks the backend on a machine with a GPU and prints one JSON report: probes, which provider sessions land on,
// the conformance suite on every available provider, and where each node of the fixtures is placed.
// Run: node --conditions=source --import tsx packages/backend-node/scripts/device-check.ts
// (or bundle it with esbuild, onnxruntime-node external, where there is no pnpm install).
import { type FixtureName, fixtureModel, runConformanceChecks } from '@qaq/backend-conformance';
import { createNodeBackend, nodePlacement } from '../src/index.js';

const backend = createNodeBackend();
const report: Record<string, unknown> = {};
const probes = await backend.probe();
report['probes'] = probes;

const attempts: Record<string, unknown> = {};
for (const providers of [['cuda', 'cpu'], ['cuda'], ['webgpu', 'cpu'], ['webgpu']]) {
  try {
    const session = await backend.createSession(fixtureModel('matmul'), { executionProviders: providers });
    attempts[providers.join(',')] = { provider: session.provider, skipped: session.skippedProviders.map((probe) => probe.name) };
    await session.dispose();
  } catch (error) {
    attempts[providers.join(',')] = { error: error instanceof Error ? `${(error as { code?: string }).code ?? ''}: ${error.message}` : String(error) };
  }
}
report['sessions'] = attempts;

const conformance: Record<string, unknown> = {};
const placements: Record<string, unknown> = {};
for (const probe of probes.filter((candidate) => candidate.available)) {
  const results = await runConformanceChecks(() => backend, { sessionOptions: { executionProviders: [probe.name] } });
  conformance[probe.name] = results.map((result) =>
    result.status === 'failed' ? { id: result.id, status: 'failed', error: String(result.error) } : { id: result.id, status: result.status },
  );
  const perFixture: Record<string, unknown> = {};
  for (const fixture of ['add', 'matmul', 'softmax', 'multiOutput', 'roundTrip'] satisfies FixtureName[]) {
    try {
      perFixture[fixture] = await nodePlacement(fixtureModel(fixture), [probe.name]);
    } catch (error) {
      perFixture[fixture] = { error: String(error) };
    }
  }
  placements[probe.name] = perFixture;
}
report['conformance'] = conformance;

// gpu-buffer outputs on WebGPU: they stay on the device, cannot be read from Node, and feed the next run.
if (probes.some((probe) => probe.name === 'webgpu' && probe.available)) {
  try {
    const onDevice = await backend.createSession(fixtureModel('add'), { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' });
    const toCpu = await backend.createSession(fixtureModel('add'), { executionProviders: ['webgpu'] });
    const ones = backend.createTensor('float32', new Float32Array(8).fill(1), [2, 4]);
    const first = await onDevice.run({ a: ones, b: ones });
    const sum = first['sum'];
    const readError = await sum?.read().then(() => 'read succeeded', (error: unknown) => String(error));
    const second = sum === undefined ? {} : await toCpu.run({ a: sum, b: ones });
    report['gpuBuffer'] = {
      firstLocation: sum?.location,
      readError,
      secondLocation: second['sum']?.location,
      secondValues: Array.from(((await second['sum']?.read()) ?? []) as Float32Array),
    };
    sum?.dispose();
    await onDevice.dispose();
    await toCpu.dispose();
  } catch (error) {
    report['gpuBuffer'] = { error: String(error) };
  }
}
report['placements'] = placements;
console.log(JSON.stringify(report, null, 1));
