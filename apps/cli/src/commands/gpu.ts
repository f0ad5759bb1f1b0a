import { parseArgs } from 'node:util';
import { createNodeBackend, installCudaProvider, pinnedCudaProvider, pinnedWheels, type NodeBackend } from '@qaq/backend-node';
import { resolveCacheDirectory } from '@qaq/models';
import { usageError } from '../cli-error.js';

export const gpuHelp = `qaq gpu [probe|install]     GPU providers: what can run here and why not; install the CUDA provider

qaq gpu probe [--json]      probe cpu, cuda and webgpu: available, or the reason and what is missing
qaq gpu install [options]   install onnxruntime's CUDA provider for onnxruntime-node ${pinnedCudaProvider.onnxruntimeVersion} from PyPI:
                            pip (python3 -m pip) fetches ${pinnedWheels(false).join(' ')}
                            into the qaq cache, links the provider beside onnxruntime-node's library and records
                            where the CUDA ${pinnedCudaProvider.cudaMajor} / cuDNN ${pinnedCudaProvider.cudnnMajor} libraries are (no LD_LIBRARY_PATH needed);
                            then probes CUDA. Needs the NVIDIA driver >= ${pinnedCudaProvider.minimumDriver} to run.
  --provider-only           only onnxruntime-gpu (CUDA ${pinnedCudaProvider.cudaMajor} and cuDNN ${pinnedCudaProvider.cudnnMajor} come from elsewhere: set QAQ_CUDA_LIBRARY_PATH)
  --copy                    copy the provider libraries instead of symlinking them
  --force                   download again even when the cache holds the pinned set
  --python <path>           the Python whose pip downloads (default python3)
`;

type ExecutionProviderProbe = Awaited<ReturnType<NodeBackend['probe']>>[number];

function describeProbe(probe: ExecutionProviderProbe): string {
  if (probe.available) return `${probe.name}: available${probe.details === undefined ? '' : ` — ${probe.details}`}`;
  const missing = probe.missing.length > 0 ? ` (missing ${probe.missing.join(', ')})` : '';
  return `${probe.name}: unavailable, ${probe.reason}${missing} — ${probe.details}`;
}

export async function runGpu(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      'provider-only': { type: 'boolean', default: false },
      copy: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      python: { type: 'string' },
    },
  });
  const [subcommand = 'probe', ...extra] = positionals;
  if (extra.length > 0) throw usageError(`unexpected arguments: ${extra.join(' ')}`, { arguments: extra });
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  switch (subcommand) {
    case 'probe': {
      const probes = await createNodeBackend().probe();
      if (values.json) process.stdout.write(`${JSON.stringify(probes, null, 2)}\n`);
      else for (const probe of probes) process.stdout.write(`${describeProbe(probe)}\n`);
      return;
    }
    case 'install': {
      const result = await installCudaProvider({
        cacheDirectory: resolveCacheDirectory(),
        providerOnly: values['provider-only'],
        copy: values.copy,
        force: values.force,
        ...(values.python === undefined ? {} : { python: values.python }),
        log,
      });
      log(result.downloaded ? 'installed' : 'already installed (use --force to download again)');
      const backend = createNodeBackend();
      const cuda = (await backend.probe()).find((probe) => probe.name === 'cuda');
      process.stdout.write(`${JSON.stringify({ manifest: result.manifest, files: result.installedFiles, probe: cuda }, null, 2)}\n`);
      return;
    }
    default:
      throw usageError(`unknown gpu subcommand "${subcommand}"`, { subcommand });
  }
}
