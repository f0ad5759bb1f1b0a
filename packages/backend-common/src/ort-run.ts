import type { BackendTensor, Feeds, RunOptions, ValueMetadata } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { messageOf } from './ort-errors.js';
import { validateRun } from './run-validation.js';

/** A run checked against the session's metadata, with its feeds and fetches in the runtime's own tensors. */
export interface PreparedOrtRun<OrtTensor> {
  readonly fetchNames: readonly string[];
  readonly feeds: Record<string, OrtTensor>;
  /** Per fetched output: the runtime tensor to write into, or null to let the runtime allocate it. */
  readonly fetches: Record<string, OrtTensor | null>;
  /** The caller's preallocated outputs (`options.outputs`). */
  readonly preallocated: Readonly<Record<string, BackendTensor>>;
}

/**
 * Validates a run, then converts its feeds and the preallocated outputs `bindsOutput` accepts with `toOrtTensor`
 * (the rest are fetched as null): the part of `run` every onnxruntime backend shares.
 */
export function prepareOrtRun<OrtTensor>(
  session: { readonly inputs: readonly ValueMetadata[]; readonly outputs: readonly ValueMetadata[] },
  feeds: Feeds,
  options: RunOptions,
  fixedSymbols: Readonly<Record<string, number>>,
  toOrtTensor: (tensor: BackendTensor, name: string, role: 'invalid-feed' | 'invalid-output') => OrtTensor,
  bindsOutput: (tensor: BackendTensor) => boolean = () => true,
): PreparedOrtRun<OrtTensor> {
  const { fetchNames } = validateRun(session.inputs, session.outputs, feeds, options, fixedSymbols);
  const ortFeeds: Record<string, OrtTensor> = {};
  for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(tensor, name, 'invalid-feed');
  const preallocated = options.outputs ?? {};
  const fetches: Record<string, OrtTensor | null> = {};
  for (const name of fetchNames) {
    const tensor = preallocated[name];
    fetches[name] = tensor === undefined || !bindsOutput(tensor) ? null : toOrtTensor(tensor, name, 'invalid-output');
  }
  return { fetchNames, feeds: ortFeeds, fetches, preallocated };
}

/** The error every backend throws when a disposed session is used. */
export function sessionDisposedError(): QaqError {
  return new QaqError('session-disposed', 'The session was disposed', { details: {} });
}

/** QaqError('run-failed') for an error onnxruntime threw while running on `provider`. */
export function runFailedError(runtimeName: string, error: unknown, provider: string): QaqError {
  return new QaqError('run-failed', `${runtimeName} failed to run: ${messageOf(error)}`, {
    details: { reason: messageOf(error), provider },
    cause: error,
  });
}
