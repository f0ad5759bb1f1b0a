import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCudaProviderManifest } from './cuda-provider-manifest.js';
import { cudaDriverLibrary } from './cuda-requirements.js';
import { checkSharedLibrary, onnxruntimeBinaryFolder } from './shared-library.js';

const installed = readCudaProviderManifest(onnxruntimeBinaryFolder()) !== undefined;
const driverLoads = checkSharedLibrary(cudaDriverLibrary).loadable;

/** onnxruntime's native log (stderr) when a CUDA session is created in a fresh process, after `probeCuda` or not. */
function cudaSessionLog(probeFirst: boolean): string {
  const source = join(import.meta.dirname, 'probe.ts');
  const script = `
    import ort from 'onnxruntime-node';
    import { probeCuda } from ${JSON.stringify(source)};
    import { probeModel } from ${JSON.stringify(join(import.meta.dirname, 'probe-model.ts'))};
    if (${probeFirst}) await probeCuda();
    await ort.InferenceSession.create(probeModel(), { executionProviders: ['cuda'] }).catch(() => {});`;
  // From the package folder, where onnxruntime-node resolves.
  const result = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return result.stderr;
}

// Needs "qaq gpu install" on a machine without an NVIDIA driver (the CPU CI image after the install step, or here).
describe.runIf(installed && !driverLoads)('CUDA libraries loaded by the probe, on a machine without a driver', () => {
  it('satisfy every DT_NEEDED of the provider but the driver, without LD_LIBRARY_PATH', () => {
    const withoutProbe = cudaSessionLog(false);
    expect(withoutProbe).toMatch(/libonnxruntime_providers_cuda\.so with error: libcublasLt\.so\.13: cannot open shared object file/);
    const afterProbe = cudaSessionLog(true);
    expect(afterProbe).toMatch(/libonnxruntime_providers_cuda\.so with error: libcuda\.so\.1: cannot open shared object file/);
  });
});
