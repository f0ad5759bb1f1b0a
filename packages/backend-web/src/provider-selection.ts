import type { ExecutionProviderName, ExecutionProviderProbe } from '@qaq/backend-spec';
import { notSupportedProbe, selectProviders as selectKnownProviders } from '@qaq/backend-common';
import { toWebProvider, webProviders, type WebProviderName } from './web-providers.js';

export { providerUnavailableError } from '@qaq/backend-common';

function unknownProviderProbe(name: string): ExecutionProviderProbe {
  return notSupportedProbe(name, `onnxruntime-web (this backend) has no '${name}' provider; it offers ${webProviders.join(', ')} ('cpu' means wasm)`);
}

/**
 * Splits the requested providers into those that can run here (in preference order, duplicates and the 'cpu'
 * alias folded) and the probes of those that cannot. `probe` is asked only about providers that were requested.
 */
export function selectProviders(
  requested: readonly ExecutionProviderName[],
  probe: (name: WebProviderName) => Promise<ExecutionProviderProbe>,
): Promise<{ usable: WebProviderName[]; unavailable: ExecutionProviderProbe[] }> {
  return selectKnownProviders(requested, { toKnown: toWebProvider, unknownProbe: unknownProviderProbe }, probe);
}
