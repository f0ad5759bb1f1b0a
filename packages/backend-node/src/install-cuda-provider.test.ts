import { chmodSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCudaProviderManifest } from './cuda-provider-manifest.js';
import { pinnedCudaProvider } from './cuda-requirements.js';
import { writeFakeElf } from './elf-fixture.test-utils.js';
import { installCudaProvider, pinnedWheels } from './install-cuda-provider.js';

const root = mkdtempSync(join(tmpdir(), 'qaq-install-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * A stand-in for `python3 -m pip install --target <site> …`: records its arguments and lays out what the real wheels
 * unpack to (the provider libraries, the dist-info, the nvidia library folders), or fails like pip.
 */
function fakePython(name: string, options: { wheelVersion: string; providerNeeds: string[]; exitCode?: number }): { python: string; calls: string } {
  const folder = join(root, name);
  mkdirSync(folder, { recursive: true });
  const template = join(folder, 'provider-template.so');
  writeFakeElf(template, { needed: options.providerNeeds });
  const calls = join(folder, 'calls.txt');
  const python = join(folder, 'python');
  writeFileSync(
    python,
    `#!/usr/bin/env bash
echo "$@" >> ${JSON.stringify(calls)}
if [ ${options.exitCode ?? 0} != 0 ]; then echo "ERROR: No matching distribution found for onnxruntime-gpu==1.30.0" >&2; exit ${options.exitCode}; fi
while [ $# -gt 0 ]; do if [ "$1" = --target ]; then site=$2; fi; shift; done
mkdir -p "$site/onnxruntime/capi" "$site/onnxruntime_gpu-${options.wheelVersion}.dist-info" "$site/nvidia/cu13/lib" "$site/nvidia/cudnn/lib"
cp ${JSON.stringify(template)} "$site/onnxruntime/capi/libonnxruntime_providers_cuda.so"
cp ${JSON.stringify(template)} "$site/onnxruntime/capi/libonnxruntime_providers_shared.so"
printf 'Metadata-Version: 2.1\\nName: onnxruntime-gpu\\nVersion: ${options.wheelVersion}\\n' > "$site/onnxruntime_gpu-${options.wheelVersion}.dist-info/METADATA"
echo "Successfully installed onnxruntime-gpu-${options.wheelVersion}"
`,
  );
  chmodSync(python, 0o755);
  return { python, calls };
}

const cuda13Needs = ['libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libcudart.so.13', 'libcuda.so.1', 'libc.so.6'];

describe('installCudaProvider (with a stand-in for pip)', () => {
  it('installs the pinned set, links the provider beside onnxruntime, records the library folders, and does not download twice', async () => {
    const { python, calls } = fakePython('good', { wheelVersion: '1.30.0', providerNeeds: cuda13Needs });
    const cacheDirectory = join(root, 'cache-good');
    const binaryFolder = join(root, 'bin-good');
    mkdirSync(binaryFolder);
    const lines: string[] = [];
    const first = await installCudaProvider({ cacheDirectory, binaryFolder, python, log: (line) => lines.push(line) });
    expect(first.downloaded).toBe(true);
    const pipCall = readFileSync(calls, 'utf8').trim();
    expect(pipCall).toMatch(/^-m pip install .*--target \S+cuda-provider\/onnxruntime-1\.30\.0-cu13\/site .*--only-binary=:all: --no-deps --python-version 3\.12/);
    expect(pipCall.endsWith(pinnedWheels(false).join(' '))).toBe(true);
    const site = join(cacheDirectory, 'cuda-provider', 'onnxruntime-1.30.0-cu13', 'site');
    expect(readlinkSync(join(binaryFolder, 'libonnxruntime_providers_cuda.so'))).toBe(join(site, 'onnxruntime', 'capi', 'libonnxruntime_providers_cuda.so'));
    expect(readCudaProviderManifest(binaryFolder)).toMatchObject({
      onnxruntimeVersion: '1.30.0',
      cudaMajor: 13,
      wheels: pinnedWheels(false),
      libraryFolders: [join(site, 'nvidia', 'cu13', 'lib'), join(site, 'nvidia', 'cudnn', 'lib')],
    });
    expect(lines.some((line) => line.startsWith('Successfully installed'))).toBe(true);

    const second = await installCudaProvider({ cacheDirectory, binaryFolder, python, copy: true });
    expect(second.downloaded).toBe(false);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(binaryFolder, 'libonnxruntime_providers_shared.so'))).toBe(true);
  });

  it('--provider-only installs the provider wheel alone and records no library folders', async () => {
    const { python, calls } = fakePython('provider-only', { wheelVersion: '1.30.0', providerNeeds: cuda13Needs });
    const binaryFolder = join(root, 'bin-provider-only');
    mkdirSync(binaryFolder);
    const result = await installCudaProvider({ cacheDirectory: join(root, 'cache-provider-only'), binaryFolder, python, providerOnly: true });
    expect(readFileSync(calls, 'utf8').trim().endsWith(`manylinux2010_x86_64 ${pinnedCudaProvider.providerWheel}`)).toBe(true);
    expect(result.manifest.libraryFolders).toEqual([]);
  });

  it('fails with pip\'s own words, and refuses a wheel of another version or CUDA major', async () => {
    const binaryFolder = join(root, 'bin-bad');
    mkdirSync(binaryFolder);
    const failing = fakePython('failing', { wheelVersion: '1.30.0', providerNeeds: cuda13Needs, exitCode: 1 });
    await expect(installCudaProvider({ cacheDirectory: join(root, 'cache-failing'), binaryFolder, python: failing.python })).rejects.toMatchObject({
      code: 'install-failed',
      message: expect.stringContaining('No matching distribution found for onnxruntime-gpu==1.30.0'),
    });
    const otherVersion = fakePython('other-version', { wheelVersion: '1.29.0', providerNeeds: cuda13Needs });
    await expect(installCudaProvider({ cacheDirectory: join(root, 'cache-version'), binaryFolder, python: otherVersion.python })).rejects.toThrow(
      /pip installed onnxruntime-gpu 1\.29\.0 .*1\.30\.0 was pinned/,
    );
    const cuda12 = fakePython('cuda12', { wheelVersion: '1.30.0', providerNeeds: ['libcublas.so.12', 'libcudart.so.12', 'libc.so.6'] });
    await expect(installCudaProvider({ cacheDirectory: join(root, 'cache-cuda12'), binaryFolder, python: cuda12.python })).rejects.toThrow(
      /The provider links CUDA 12, CUDA 13 was expected/,
    );
    expect(existsSync(join(binaryFolder, 'libonnxruntime_providers_cuda.so'))).toBe(false);
    await expect(installCudaProvider({ cacheDirectory: join(root, 'cache-none'), binaryFolder, python: join(root, 'no-such-python') })).rejects.toThrow(
      /Cannot run .*no-such-python/,
    );
  });
});
