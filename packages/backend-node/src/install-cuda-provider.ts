import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { QaqError } from '@qaq/errors';
import { onnxruntimeNodeVersion, readCudaProviderManifest, writeCudaProviderManifest, type CudaProviderManifest } from './cuda-provider-manifest.js';
import { cudaLibraryRequirements, cudaProviderLibraries, cudaProviderLibrary, pinnedCudaProvider } from './cuda-requirements.js';
import { onnxruntimeBinaryFolder } from './shared-library.js';

export interface InstallCudaProviderOptions {
  /** Where the wheels' files go: `<cacheDirectory>/cuda-provider/onnxruntime-<version>-cu<major>`. */
  readonly cacheDirectory: string;
  /** The Python that runs pip (default 'python3'). Only pip's download and unpacking are used, not the interpreter. */
  readonly python?: string;
  /** Only the provider wheel, for machines whose CUDA 13 / cuDNN 9 libraries come from elsewhere (QAQ_CUDA_LIBRARY_PATH). */
  readonly providerOnly?: boolean;
  /** Copy the provider libraries into onnxruntime-node's folder instead of symlinking them (default false). */
  readonly copy?: boolean;
  /** Reinstall even when the install folder already holds this exact set. */
  readonly force?: boolean;
  /** onnxruntime-node's binary folder (default: the one this package resolves). */
  readonly binaryFolder?: string;
  readonly log?: (line: string) => void;
}

export interface InstallCudaProviderResult {
  readonly manifest: CudaProviderManifest;
  /** True when pip ran; false when the install folder already held the pinned set. */
  readonly downloaded: boolean;
  /** The provider libraries now in onnxruntime-node's binary folder. */
  readonly installedFiles: readonly string[];
}

/**
 * pip options that make the download the same on every machine: binary wheels for CPython 3.12 on manylinux x86-64,
 * whatever Python runs pip (the libraries inside do not depend on the Python version), no dependency resolution
 * (every wheel is pinned).
 */
export const pipPlatformOptions = [
  '--only-binary=:all:',
  '--no-deps',
  '--python-version',
  '3.12',
  '--implementation',
  'cp',
  ...['manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64', 'manylinux_2_12_x86_64', 'manylinux2010_x86_64'].flatMap(
    (platform) => ['--platform', platform],
  ),
];

/** The pinned requirements of an install, provider first. */
export function pinnedWheels(providerOnly: boolean): string[] {
  return [pinnedCudaProvider.providerWheel, ...(providerOnly ? [] : pinnedCudaProvider.runtimeWheels)];
}

function run(command: string, args: readonly string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (/^(Collecting|Downloading|Saved|Successfully|ERROR)/.test(line.trim())) log(line.trim());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) =>
      reject(new QaqError('install-failed', `Cannot run ${command}: ${error.message} (pip is needed to install the CUDA provider)`, { details: { command } })),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new QaqError('install-failed', `${command} ${args.slice(0, 4).join(' ')} … exited with ${code}: ${tail.slice(-1500)}`, { details: { command, code } }));
    });
  });
}

/** The version in the installed onnxruntime-gpu wheel's METADATA. */
function installedWheelVersion(site: string): string | undefined {
  const distInfo = existsSync(site) ? readdirSync(site).find((name) => /^onnxruntime_gpu-.*\.dist-info$/.test(name)) : undefined;
  if (distInfo === undefined) return undefined;
  return /^Version: (.*)$/m.exec(readFileSync(join(site, distInfo, 'METADATA'), 'utf8'))?.[1]?.trim();
}

/**
 * Installs onnxruntime's CUDA provider for onnxruntime-node from PyPI: pip downloads the pinned onnxruntime-gpu wheel
 * (same onnxruntime version as onnxruntime-node) and the CUDA 13 / cuDNN 9 runtime wheels into the cache, the two
 * provider libraries are linked beside onnxruntime-node's libonnxruntime.so.1 (onnxruntime loads providers from the
 * folder of its own library), and a manifest there records the folders of the CUDA libraries, which the probe then
 * loads by path: no LD_LIBRARY_PATH, no root. Idempotent.
 */
export async function installCudaProvider(options: InstallCudaProviderOptions): Promise<InstallCudaProviderResult> {
  const log = options.log ?? (() => {});
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new QaqError('install-failed', `The CUDA provider wheels exist for linux/x64 only; this is ${process.platform}/${process.arch}`, {
      details: { platform: process.platform, arch: process.arch },
    });
  }
  const nodeVersion = onnxruntimeNodeVersion();
  if (nodeVersion !== pinnedCudaProvider.onnxruntimeVersion) {
    throw new QaqError(
      'install-failed',
      `onnxruntime-node is ${nodeVersion}, but this installer pins onnxruntime-gpu ${pinnedCudaProvider.onnxruntimeVersion}: the provider must come from the same onnxruntime version`,
      { details: { onnxruntimeNode: nodeVersion, pinned: pinnedCudaProvider.onnxruntimeVersion } },
    );
  }
  const providerOnly = options.providerOnly ?? false;
  const wheels = pinnedWheels(providerOnly);
  const installFolder = join(options.cacheDirectory, 'cuda-provider', `onnxruntime-${pinnedCudaProvider.onnxruntimeVersion}-cu${pinnedCudaProvider.cudaMajor}`);
  const site = join(installFolder, 'site');
  const previous = readCudaProviderManifest(installFolder);
  const upToDate = previous !== undefined && previous.wheels.join(' ') === wheels.join(' ') && existsSync(join(site, 'onnxruntime', 'capi', cudaProviderLibrary));
  let downloaded = false;
  if (!upToDate || options.force === true) {
    rmSync(site, { recursive: true, force: true });
    mkdirSync(site, { recursive: true });
    log(`pip: ${wheels.join(' ')} → ${site}`);
    await run(options.python ?? 'python3', ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-cache-dir', '--no-compile', '--target', site, ...pipPlatformOptions, ...wheels], log);
    downloaded = true;
  }
  const wheelVersion = installedWheelVersion(site);
  if (wheelVersion !== nodeVersion) {
    throw new QaqError('install-failed', `pip installed onnxruntime-gpu ${wheelVersion ?? '(none)'} into ${site}, ${nodeVersion} was pinned`, {
      details: { site, wheelVersion, expected: nodeVersion },
    });
  }
  const capi = join(site, 'onnxruntime', 'capi');
  const requirements = cudaLibraryRequirements(join(capi, cudaProviderLibrary));
  if (requirements.cudaMajor !== pinnedCudaProvider.cudaMajor) {
    throw new QaqError('install-failed', `The provider links CUDA ${requirements.cudaMajor ?? '(none)'}, CUDA ${pinnedCudaProvider.cudaMajor} was expected`, {
      details: { linked: requirements.linked },
    });
  }
  const libraryFolders = providerOnly
    ? []
    : [join(site, 'nvidia', `cu${pinnedCudaProvider.cudaMajor}`, 'lib'), join(site, 'nvidia', 'cudnn', 'lib')].filter((folder) => existsSync(folder));

  const binaryFolder = options.binaryFolder ?? onnxruntimeBinaryFolder();
  const installedFiles: string[] = [];
  for (const name of cudaProviderLibraries) {
    const target = join(binaryFolder, name);
    rmSync(target, { force: true });
    if (options.copy === true) copyFileSync(join(capi, name), target);
    else symlinkSync(join(capi, name), target);
    installedFiles.push(target);
  }
  const manifest: CudaProviderManifest = {
    format: 1,
    onnxruntimeVersion: wheelVersion,
    wheels,
    cudaMajor: requirements.cudaMajor,
    libraryFolders,
    installFolder,
    installedAt: new Date().toISOString(),
  };
  writeCudaProviderManifest(installFolder, manifest);
  writeCudaProviderManifest(binaryFolder, manifest);
  log(`linked ${installedFiles.join(', ')}; CUDA ${requirements.cudaMajor} libraries from ${libraryFolders.join(', ') || '(QAQ_CUDA_LIBRARY_PATH / the system)'}`);
  return { manifest, downloaded, installedFiles };
}
