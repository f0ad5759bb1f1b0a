import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cudaProviderManifestName, readCudaProviderManifest } from './cuda-provider-manifest.js';
import { cudaDriverLibrary, cudaProviderLibraries } from './cuda-requirements.js';
import { writeFakeElf } from './elf-fixture.test-utils.js';
import { probeCpu, probeCuda, probeCudaIn, probeWebGpu, type CudaProbeEnvironment } from './probe.js';
import { checkSharedLibrary, onnxruntimeBinaryFolder, type LibraryCheck } from './shared-library.js';

describe('checkSharedLibrary', () => {
  it('tells a loadable library from a missing one', () => {
    expect(checkSharedLibrary('libc.so.6')).toEqual({ library: 'libc.so.6', loadable: true });
    const missing = checkSharedLibrary('libqaq-does-not-exist.so.1');
    expect(missing.loadable).toBe(false);
    expect(missing.error).toMatch(/cannot open shared object file/);
  });
});

describe('probe', () => {
  it('finds the bundled CPU provider', async () => {
    expect(await probeCpu()).toEqual({ name: 'cpu', available: true });
  });

  it('on this machine: the CUDA probe names what is missing and never claims CUDA without a driver', async () => {
    const probe = await probeCuda();
    const binaryFolder = onnxruntimeBinaryFolder();
    const absentProviders = cudaProviderLibraries.filter((name) => !existsSync(join(binaryFolder, name)));
    const driverLoads = checkSharedLibrary(cudaDriverLibrary).loadable;
    if (!driverLoads) expect(probe.available).toBe(false);
    if (probe.available) return;
    if (absentProviders.length > 0) {
      expect(probe.reason).toBe('missing-library');
      expect(probe.missing).toEqual(expect.arrayContaining(absentProviders));
      expect(probe.details).toContain('qaq gpu install');
    } else if (readCudaProviderManifest(binaryFolder) !== undefined && !driverLoads) {
      // Installed by "qaq gpu install": every CUDA/cuDNN library loads from the install folders; only the driver lacks.
      expect(probe).toMatchObject({ reason: 'missing-driver', missing: [cudaDriverLibrary] });
      expect(probe.details).toMatch(/No CUDA driver: libcuda\.so\.1 cannot be loaded/);
    }
  });

  it('reports a missing WebGPU adapter with onnxruntime\'s own words', async () => {
    const probe = await probeWebGpu();
    if (probe.available) return;
    expect(['missing-driver', 'missing-adapter']).toContain(probe.reason);
    expect(probe.details).toMatch(/Failed to get a WebGPU adapter/);
    if (!checkSharedLibrary('libvulkan.so.1').loadable) {
      expect(probe.reason).toBe('missing-driver');
      expect(probe.missing).toEqual(['libvulkan.so.1']);
    }
  });
});

describe('probeCudaIn, on fake library folders', () => {
  const root = mkdtempSync(join(tmpdir(), 'qaq-cuda-probe-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const providerNeeds = ['libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libcudart.so.13', 'libcuda.so.1', 'libstdc++.so.6', 'libc.so.6'];
  let folderCount = 0;

  /** A binary folder with (or without) the provider, and a library folder holding `libraries` as empty files. */
  function fakeMachine(options: { provider: boolean; libraries: readonly string[]; manifestVersion?: string }): { binaryFolder: string; libraryFolder: string } {
    const base = join(root, String(folderCount++));
    const binaryFolder = join(base, 'bin');
    const libraryFolder = join(base, 'nvidia', 'cu13', 'lib');
    mkdirSync(binaryFolder, { recursive: true });
    mkdirSync(libraryFolder, { recursive: true });
    if (options.provider) {
      writeFakeElf(join(binaryFolder, 'libonnxruntime_providers_cuda.so'), { needed: providerNeeds });
      writeFakeElf(join(binaryFolder, 'libonnxruntime_providers_shared.so'), { needed: ['libc.so.6'], soname: 'libonnxruntime_providers_shared.so' });
    }
    for (const library of options.libraries) writeFileSync(join(libraryFolder, library), '');
    if (options.manifestVersion !== undefined) {
      const manifest = {
        format: 1,
        onnxruntimeVersion: options.manifestVersion,
        wheels: ['onnxruntime-gpu==' + options.manifestVersion],
        cudaMajor: 13,
        libraryFolders: [libraryFolder],
        installFolder: base,
        installedAt: '2026-11-28T00:00:00.000Z',
      };
      writeFileSync(join(binaryFolder, cudaProviderManifestName), JSON.stringify(manifest));
    }
    return { binaryFolder, libraryFolder };
  }

  /**
   * A loader that opens a path when the file exists, and a bare name only when it is in `byName`; libcublas.so.13
   * loads only after libcublasLt.so.13 (its DT_NEEDED), as the real loader behaves without RUNPATH.
   */
  function fakeEnvironment(
    machine: { binaryFolder: string },
    options: { byName?: readonly string[]; variables?: NodeJS.ProcessEnv; cudaFailure?: string } = {},
  ): CudaProbeEnvironment & { loaded: string[] } {
    const loaded: string[] = [];
    const load = (pathOrName: string): LibraryCheck => {
      const name = pathOrName.split('/').pop()!;
      const present = pathOrName.includes('/') ? existsSync(pathOrName) : (options.byName ?? []).includes(name);
      const dependencyMissing = name === 'libcublas.so.13' && !loaded.some((path) => path.endsWith('libcublasLt.so.13'));
      if (!present || dependencyMissing) {
        const missing = dependencyMissing ? 'libcublasLt.so.13' : name;
        return { library: pathOrName, loadable: false, error: `${missing}: cannot open shared object file: No such file or directory` };
      }
      loaded.push(pathOrName);
      return { library: pathOrName, loadable: true };
    };
    return {
      platform: 'linux',
      arch: 'x64',
      binaryFolder: machine.binaryFolder,
      onnxruntimeVersion: '1.30.0',
      variables: options.variables ?? {},
      load,
      tryCuda: async () => options.cudaFailure,
      loaded,
    };
  }

  const allRuntime = ['libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libcudart.so.13', 'libcufft.so.12', 'libcudnn.so.9'];

  it('says the provider libraries are missing and how to install them', async () => {
    const machine = fakeMachine({ provider: false, libraries: [] });
    const probe = await probeCudaIn(fakeEnvironment(machine, { byName: [cudaDriverLibrary] }));
    expect(probe).toMatchObject({ available: false, reason: 'missing-library', missing: [...cudaProviderLibraries] });
    expect(!probe.available && probe.details).toMatch(/are not in .*bin: run "pnpm qaq gpu install" \(pip installs onnxruntime-gpu==1\.30\.0/);
  });

  it('names each CUDA/cuDNN library the provider needs that cannot be loaded, with the folders searched', async () => {
    const machine = fakeMachine({ provider: true, libraries: ['libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13'], manifestVersion: '1.30.0' });
    const probe = await probeCudaIn(fakeEnvironment(machine, { byName: [cudaDriverLibrary] }));
    expect(probe).toMatchObject({ available: false, reason: 'missing-library', missing: ['libcurand.so.10', 'libcufft.so.12', 'libcudnn.so.9'] });
    const details = probe.available ? '' : probe.details;
    expect(details).toContain(`searched ${machine.libraryFolder}, then LD_LIBRARY_PATH and the ld cache`);
    expect(details).toMatch(/^CUDA 13 \/ cuDNN 9 libraries/);
    expect(details).toContain('QAQ_CUDA_LIBRARY_PATH');
  });

  it('loads libraries from the manifest folders whatever their order, then reports only the missing driver', async () => {
    const machine = fakeMachine({ provider: true, libraries: allRuntime, manifestVersion: '1.30.0' });
    const environment = fakeEnvironment(machine);
    const probe = await probeCudaIn(environment);
    expect(probe).toMatchObject({ available: false, reason: 'missing-driver', missing: [cudaDriverLibrary] });
    expect(probe.available ? '' : probe.details).toMatch(/No CUDA driver: libcuda\.so\.1 cannot be loaded .*NVIDIA driver \(>= 580 for CUDA 13\)/);
    expect(environment.loaded.sort()).toEqual(allRuntime.map((library) => join(machine.libraryFolder, library)).sort());
  });

  it('searches QAQ_CUDA_LIBRARY_PATH without a manifest', async () => {
    const machine = fakeMachine({ provider: true, libraries: allRuntime });
    const withoutVariable = await probeCudaIn(fakeEnvironment(machine, { byName: [cudaDriverLibrary] }));
    expect(withoutVariable).toMatchObject({ reason: 'missing-library', missing: ['libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libcudart.so.13', 'libcufft.so.12', 'libcudnn.so.9'] });
    const variables = { QAQ_CUDA_LIBRARY_PATH: `/nonexistent:${machine.libraryFolder}` };
    const probe = await probeCudaIn(fakeEnvironment(machine, { byName: [cudaDriverLibrary], variables }));
    expect(probe).toEqual({ name: 'cuda', available: true, details: 'A session ran on the CUDA provider (CUDA 13 / cuDNN 9)' });
  });

  it('refuses a provider from another onnxruntime version', async () => {
    const machine = fakeMachine({ provider: true, libraries: allRuntime, manifestVersion: '1.29.0' });
    const probe = await probeCudaIn(fakeEnvironment(machine, { byName: [cudaDriverLibrary] }));
    expect(probe).toMatchObject({ reason: 'missing-library', missing: ['libonnxruntime_providers_cuda.so (onnxruntime 1.30.0)'] });
    expect(probe.available ? '' : probe.details).toMatch(/is from onnxruntime 1\.29\.0, but onnxruntime-node is 1\.30\.0/);
  });

  it('tells a machine without a GPU from an old driver and from other failures', async () => {
    const machine = fakeMachine({ provider: true, libraries: allRuntime, manifestVersion: '1.30.0' });
    const cases: [string, string, string[]][] = [
      ['CUDA failure 100: no CUDA-capable device is detected', 'missing-adapter', ['CUDA device']],
      ['CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version', 'missing-driver', ['NVIDIA driver >= 580']],
      ['some other failure', 'probe-failed', []],
    ];
    for (const [cudaFailure, reason, missing] of cases) {
      const probe = await probeCudaIn(fakeEnvironment(machine, { byName: [cudaDriverLibrary], cudaFailure }));
      expect(probe).toMatchObject({ available: false, reason, missing });
      expect(probe.available ? '' : probe.details).toContain(cudaFailure);
    }
  });

  it('reports a provider file that is not a shared library instead of failing', async () => {
    const machine = fakeMachine({ provider: true, libraries: allRuntime });
    writeFileSync(join(machine.binaryFolder, 'libonnxruntime_providers_cuda.so'), '<html>proxy error</html>');
    const probe = await probeCudaIn(fakeEnvironment(machine, { byName: [cudaDriverLibrary] }));
    expect(probe).toMatchObject({ available: false, reason: 'probe-failed', missing: [] });
    expect(probe.available ? '' : probe.details).toMatch(/libonnxruntime_providers_cuda\.so is not a 64-bit little-endian ELF shared library: no ELF magic; run "pnpm qaq gpu install"/);
  });

  it('does not probe CUDA off linux/x64', async () => {
    const machine = fakeMachine({ provider: true, libraries: allRuntime });
    const probe = await probeCudaIn({ ...fakeEnvironment(machine), platform: 'darwin', arch: 'arm64' });
    expect(probe).toMatchObject({ available: false, reason: 'not-supported', missing: [] });
  });
});
