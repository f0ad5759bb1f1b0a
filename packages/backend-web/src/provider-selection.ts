import type { ExecutionProviderName, ExecutionProviderProbe } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { toWebProvider, webProviders, type WebProviderName } from './web-providers.js';

function unknownProviderProbe(name: string): ExecutionProviderProbe {
  return {
    name,
    available: false,
    reason: 'not-supported',
    missing: [],
    details: `onnxruntime-web (this backend) has no '${name}' provider; it offers ${webProviders.join(', ')} ('cpu' means wasm)`,
  };
}

/**
 * Splits the requested providers into those that can run here (in preference order, duplicates and the 'cpu'
 * alias folded) and the probes of those that cannot. `probe` is asked only about providers that were requested.
 */
export async function selectProviders(
  requested: readonly ExecutionProviderName[],
  probe: (name: WebProviderName) => Promise<ExecutionProviderProbe>,
): Promise<{ usable: WebProviderName[]; unavailable: ExecutionProviderProbe[] }> {
  const usable: WebProviderName[] = [];
  const unavailable: ExecutionProviderProbe[] = [];
  for (const name of new Set(requested)) {
    const known = toWebProvider(name);
    if (known !== undefined && usable.includes(known)) continue;
    const result = known === undefined ? unknownProviderProbe(name) : await probe(known);
    if (result.available && known !== undefined) usable.push(known);
    else if (!unavailable.some((probeResult) => probeResult.name === result.name)) unavailable.push(result);
  }
  return { usable, unavailable };
}

/** The error for "none of the requested providers can run here", naming what each one is missing. */
export function providerUnavailableError(requested: readonly ExecutionProviderName[], unavailable: readonly ExecutionProviderProbe[]): QaqError {
  const reasons = unavailable.map((probe) =>
    probe.available
      ? `${probe.name}: available`
      : `${probe.name}: ${probe.reason}${probe.missing.length > 0 ? ` (missing ${probe.missing.join(', ')})` : ''} — ${probe.details}`,
  );
  return new QaqError('provider-unavailable', `No requested execution provider can run here. ${reasons.join('; ')}`, {
    details: { requested: [...requested], probes: unavailable },
  });
}
