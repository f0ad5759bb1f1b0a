import type { Backend, BackendSession, SessionOptions } from '@qaq/backend-spec';
import type { ConformanceCheck, ConformanceContext } from './check.js';
import { conformanceChecks } from './checks/index.js';
import { fixtureModel, fixtureOperators } from './fixtures.js';

/** Makes the backend under test; called once per check so checks cannot leak state into each other. */
export type BackendFactory = () => Backend | Promise<Backend>;

export interface ConformanceOptions {
  /** Session options for every fixture session, e.g. { executionProviders: ['webgpu'] } on a GPU run. */
  readonly sessionOptions?: SessionOptions;
  /** Check ids to leave out (reported as skipped with this reason). */
  readonly skip?: Readonly<Record<string, string>>;
  /**
   * `matmul-numerics` allows TF32 error on providers that multiply float32 in TF32 by default (cuda, see
   * `reducedPrecisionMatMulProviders`); true holds every provider to float32 — for a backend that turns TF32 off,
   * or a run under NVIDIA_TF32_OVERRIDE=0. Default false.
   */
  readonly strictFloat32MatMul?: boolean;
}

export type ConformanceResult =
  | { readonly id: string; readonly title: string; readonly status: 'passed' }
  | { readonly id: string; readonly title: string; readonly status: 'skipped'; readonly reason: string }
  | { readonly id: string; readonly title: string; readonly status: 'failed'; readonly error: unknown };

/** Why `check` cannot run on `backend`, or undefined when it can. */
export function skipReason(check: ConformanceCheck, backend: Backend, options: ConformanceOptions = {}): string | undefined {
  const skipped = options.skip?.[check.id];
  if (skipped !== undefined) return skipped;
  const { capabilities } = backend;
  if (check.capability !== undefined && !capabilities[check.capability]) return `the backend does not claim ${check.capability}`;
  const missingTypes = (check.dataTypes ?? []).filter((dataType) => !capabilities.dataTypes.includes(dataType));
  if (missingTypes.length > 0) return `the backend does not claim data types ${missingTypes.join(', ')}`;
  if (capabilities.operators !== undefined) {
    const operators = capabilities.operators;
    const missing = check.fixtures.flatMap((fixture) => fixtureOperators[fixture]).filter((operator) => !operators.includes(operator));
    if (missing.length > 0) return `the backend does not claim operators ${[...new Set(missing)].join(', ')}`;
  }
  return undefined;
}

/** Runs one check against a fresh backend, closing every session it opened. Throws what the check threw. */
export async function runCheck(check: ConformanceCheck, backend: Backend, options: ConformanceOptions = {}): Promise<void> {
  const sessions: BackendSession[] = [];
  const sessionOptions = options.sessionOptions ?? {};
  const context: ConformanceContext = {
    backend,
    sessionOptions,
    strictFloat32MatMul: options.strictFloat32MatMul === true,
    async openSession(fixture) {
      const session = await backend.createSession(fixtureModel(fixture), sessionOptions);
      sessions.push(session);
      return session;
    },
  };
  try {
    await check.run(context);
  } finally {
    for (const session of sessions) await session.dispose();
  }
}

/**
 * Runs the whole suite without a test framework (e.g. in a browser page) and reports each check. Uses no runtime
 * API beyond ES2022, so it runs wherever the backend does.
 */
export async function runConformanceChecks(factory: BackendFactory, options: ConformanceOptions = {}): Promise<ConformanceResult[]> {
  const results: ConformanceResult[] = [];
  for (const check of conformanceChecks) {
    const backend = await factory();
    const reason = skipReason(check, backend, options);
    if (reason !== undefined) {
      results.push({ id: check.id, title: check.title, status: 'skipped', reason });
      continue;
    }
    try {
      await runCheck(check, backend, options);
      results.push({ id: check.id, title: check.title, status: 'passed' });
    } catch (error) {
      results.push({ id: check.id, title: check.title, status: 'failed', error });
    }
  }
  return results;
}
