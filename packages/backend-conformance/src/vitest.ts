import { describe, it } from 'vitest';
import { conformanceChecks } from './checks/index.js';
import { type BackendFactory, type ConformanceOptions, runCheck, skipReason } from './run-checks.js';

/**
 * Registers the conformance suite as vitest tests: one `it` per check, skipped (with the reason in the title) when
 * the backend does not claim what the check needs. Import from '@qaq/backend-conformance/vitest'.
 */
export function describeBackendConformance(name: string, factory: BackendFactory, options: ConformanceOptions = {}): void {
  describe(`backend conformance: ${name}`, () => {
    for (const check of conformanceChecks) {
      it(`${check.id}: ${check.title}`, async (context) => {
        const backend = await factory();
        const reason = skipReason(check, backend, options);
        if (reason !== undefined) {
          context.skip(reason);
          return;
        }
        await runCheck(check, backend, options);
      });
    }
  });
}
