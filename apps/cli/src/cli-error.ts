import { QaqError } from '@qaq/errors';

/** A usage mistake on the command line: printed with the command's help, exit code 2. */
export function usageError(message: string, details: Record<string, unknown> = {}): QaqError {
  return new QaqError('invalid-arguments', message, { details });
}
