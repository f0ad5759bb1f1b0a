import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { QaqError } from '@qaq/errors';

/** The file `qaq gpu install` writes beside the provider libraries it links into onnxruntime-node's binary folder. */
export const cudaProviderManifestName = 'qaq-cuda-provider.json';

/** What was installed, from where, and where its CUDA/cuDNN libraries are. */
export interface CudaProviderManifest {
  readonly format: 1;
  /** onnxruntime version of the provider libraries (the onnxruntime-gpu wheel's version). */
  readonly onnxruntimeVersion: string;
  /** The pinned requirements pip installed, e.g. 'onnxruntime-gpu==1.30.0'. */
  readonly wheels: readonly string[];
  /** CUDA major the provider links (13 for PyPI's onnxruntime-gpu 1.30.0). */
  readonly cudaMajor: number;
  /** Folders holding the CUDA/cuDNN libraries (nvidia/cu13/lib, nvidia/cudnn/lib): loaded from there, no LD_LIBRARY_PATH. */
  readonly libraryFolders: readonly string[];
  /** Where pip put the wheels' files. */
  readonly installFolder: string;
  readonly installedAt: string;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** The manifest in `folder`, undefined when there is none; a malformed one is an error naming the file. */
export function readCudaProviderManifest(folder: string): CudaProviderManifest | undefined {
  const path = join(folder, cudaProviderManifestName);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new QaqError('invalid-manifest', `${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`, { details: { path } });
  }
  const record = parsed as Partial<Record<keyof CudaProviderManifest, unknown>>;
  if (
    record.format !== 1 ||
    typeof record.onnxruntimeVersion !== 'string' ||
    !isStringArray(record.wheels) ||
    typeof record.cudaMajor !== 'number' ||
    !isStringArray(record.libraryFolders) ||
    typeof record.installFolder !== 'string' ||
    typeof record.installedAt !== 'string'
  ) {
    throw new QaqError('invalid-manifest', `${path} is not a format-1 CUDA provider manifest; run "qaq gpu install" again`, { details: { path } });
  }
  return record as CudaProviderManifest;
}

export function writeCudaProviderManifest(folder: string, manifest: CudaProviderManifest): void {
  writeFileSync(join(folder, cudaProviderManifestName), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The version of the onnxruntime-node package this backend runs on (its libonnxruntime.so.1 is that version). */
export function onnxruntimeNodeVersion(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require('onnxruntime-node/package.json') as { version: string };
  return packageJson.version;
}
