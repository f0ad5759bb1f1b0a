/**
 * The one error class of every QAQ package. `code` is stable and meant for programs;
 * `message` is for people. `details` carries the offending values so nothing is lost.
 */
export class QaqError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'QaqError';
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** True when `value` is a QaqError, optionally with the given code. */
export function isQaqError(value: unknown, code?: string): value is QaqError {
  return value instanceof QaqError && (code === undefined || value.code === code);
}
