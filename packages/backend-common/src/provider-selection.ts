import type { ExecutionProviderName, ExecutionProviderProbe } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';

/** How a backend names its providers: which requested names it knows, and what it says about the others. */
export interface ProviderCatalog<Name extends string> {
  /** The backend's provider for a requested name (aliases folded), or undefined when it has none. */
  readonly toKnown: (name: ExecutionProviderName) => Name | undefined;
  /** The probe reported for a requested name the backend has no provider for. */
  readonly unknownProbe: (name: string) => ExecutionProviderProbe;
}

/** The probe of a requested provider the backend has none of; `details` says what it offers instead. */
export function notSupportedProbe(name: string, details: string): ExecutionProviderProbe {
  return { name, available: false, reason: 'not-supported', missing: [], details };
}

/**
 * Splits the requested providers into those that can run here (in preference order, duplicates and aliases
 * folded) and the probes of those that cannot. `probe` is asked only about providers that were requested.
 */
export async function selectProviders<Name extends string>(
  requested: readonly ExecutionProviderName[],
  catalog: ProviderCatalog<Name>,
  probe: (name: Name) => Promise<ExecutionProviderProbe>,
): Promise<{ usable: Name[]; unavailable: ExecutionProviderProbe[] }> {
  const usable: Name[] = [];
  const unavailable: ExecutionProviderProbe[] = [];
  for (const name of new Set(requested)) {
    const known = catalog.toKnown(name);
    if (known !== undefined && usable.includes(known)) continue;
    const result = known === undefined ? catalog.unknownProbe(name) : await probe(known);
    if (result.available && known !== undefined) usable.push(known);
    else if (!unavailable.some((probeResult) => probeResult.name === result.name)) unavailable.push(result);
  }
  return { usable, unavailable };
}

/** The error for "none of the requested providers can run here", naming what each one is missing. */
export function providerUnavailableError(
  requested: readonly ExecutionProviderName[],
  unavailable: readonly ExecutionProviderProbe[],
): QaqError {
  const reasons = unavailable.map((probe) =>
    probe.available
      ? `${probe.name}: available`
      : `${probe.name}: ${probe.reason}${probe.missing.length > 0 ? ` (missing ${probe.missing.join(', ')})` : ''} — ${probe.details}`,
  );
  return new QaqError('provider-unavailable', `No requested execution provider can run here. ${reasons.join('; ')}`, {
    details: { requested: [...requested], probes: unavailable },
  });
}
