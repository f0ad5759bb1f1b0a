import type { ExecutionProviderName, ExecutionProviderProbe } from '@qaq/backend-spec';
import { notSupportedProbe, selectProviders as selectKnownProviders } from '@qaq/backend-common';

export { providerUnavailableError } from '@qaq/backend-common';

/** The providers onnxruntime-node 1.30 can be asked for on this backend. */
export const nodeProviders = ['cpu', 'cuda', 'webgpu'] as const satisfies readonly ExecutionProviderName[];

type NodeProviderName = (typeof nodeProviders)[number];

function unknownProviderProbe(name: string): ExecutionProviderProbe {
  return notSupportedProbe(name, `onnxruntime-node (this backend) has no '${name}' provider; it offers ${nodeProviders.join(', ')}`);
}

/**
 * Splits the requested providers into those that can run here (in preference order) and the probes of those that
 * cannot. `probe` is asked only about providers that were requested.
 */
export function selectProviders(
  requested: readonly ExecutionProviderName[],
  probe: (name: NodeProviderName) => Promise<ExecutionProviderProbe>,
): Promise<{ usable: NodeProviderName[]; unavailable: ExecutionProviderProbe[] }> {
  const toKnown = (name: ExecutionProviderName): NodeProviderName | undefined => nodeProviders.find((provider) => provider === name);
  return selectKnownProviders(requested, { toKnown, unknownProbe: unknownProviderProbe }, probe);
}
