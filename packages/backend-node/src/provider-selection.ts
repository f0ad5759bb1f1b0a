import type { ExecutionProviderName, ExecutionProviderProbe } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';

/** The providers onnxruntime-node 1.30 can be asked for on this backend. */
export const nodeProviders = ['cpu', 'cuda', 'webgpu'] as const satisfies readonly ExecutionProviderName[];

function unknownProviderProbe(name: string): ExecutionProviderProbe {
  return {
    name,
    available: false,
    reason: 'not-supported',
    missing: [],
    details: `onnxruntime-node (this backend) has no '${name}' provider; it offers ${nodeProviders.join(', ')}`,
  };
}

/**
 * Splits the requested providers into those that can run here (in preference order) and the probes of those that
 * cannot. `probe` is asked only about providers that were requested.
 */
export async function selectProviders(
  requested: readonly ExecutionProviderName[],
  probe: (name: (typeof nodeProviders)[number]) => Promise<ExecutionProviderProbe>,
): Promise<{ usable: ExecutionProviderName[]; unavailable: ExecutionProviderProbe[] }> {
  const usable: ExecutionProviderName[] = [];
  const unavailable: ExecutionProviderProbe[] = [];
  for (const name of new Set(requested)) {
    const known = nodeProviders.find((provider) => provider === name);
    const result = known === undefined ? unknownProviderProbe(name) : await probe(known);
    if (result.available) usable.push(name);
    else unavailable.push(result);
  }
  return { usable, unavailable };
}

/** The error for "none of the requested providers can run here", naming what each one is missing. */
export function providerUnavailableError(
  requested: readonly ExecutionProviderName[],
  unavailable: readonly ExecutionProviderProbe[],
): QaqError {
  const reasons = unavailable.map((probe) =>
    probe.available ? `${probe.name}: available` : `${probe.name}: ${probe.reason}${probe.missing.length > 0 ? ` (missing ${probe.missing.join(', ')})` : ''} — ${probe.details}`,
  );
  return new QaqError('provider-unavailable', `No requested execution provider can run here. ${reasons.join('; ')}`, {
    details: { requested: [...requested], probes: unavailable },
  });
}
