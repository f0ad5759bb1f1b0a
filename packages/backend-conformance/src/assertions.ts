/** Thrown by a conformance check that found the backend out of line with the specification. */
export class ConformanceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceFailure';
  }
}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure(message);
}

function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? `${inner}n` : inner)) ?? String(value);
  } catch {
    return String(value);
  }
}

export function checkEqual<T>(actual: T, expected: T, what: string): void {
  check(Object.is(actual, expected), `${what}: expected ${describeValue(expected)}, got ${describeValue(actual)}`);
}

export function checkSameList(actual: ArrayLike<unknown>, expected: ArrayLike<unknown>, what: string): void {
  check(actual.length === expected.length, `${what}: expected length ${expected.length}, got ${actual.length}`);
  for (let index = 0; index < expected.length; index += 1) {
    check(
      Object.is(actual[index], expected[index]),
      `${what}[${index}]: expected ${describeValue(expected[index])}, got ${describeValue(actual[index])}`,
    );
  }
}

/**
 * Every element within `tolerance(index)` of the float64 reference; NaN never passes. Reports the worst element.
 */
export function checkClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: (index: number) => number,
  what: string,
): void {
  check(actual.length === expected.length, `${what}: expected ${expected.length} elements, got ${actual.length}`);
  for (let index = 0; index < expected.length; index += 1) {
    const error = Math.abs((actual[index] ?? Number.NaN) - (expected[index] ?? Number.NaN));
    check(
      error <= tolerance(index),
      `${what}[${index}]: expected ${expected[index]}, got ${actual[index]} (error ${error}, allowed ${tolerance(index)})`,
    );
  }
}

/** The code of a QaqError-shaped error (an Error with a string `code`), else undefined. */
function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** `action` must reject (or throw) a QaqError with `code`; returns it for further checks. */
export async function checkRejects(action: () => unknown, code: string, what: string): Promise<Error> {
  try {
    await action();
  } catch (error) {
    const actual = errorCode(error);
    check(
      actual === code,
      `${what}: expected QaqError('${code}'), got ${actual === undefined ? String(error) : `QaqError('${actual}')`}`,
    );
    check(error instanceof Error && error.name === 'QaqError', `${what}: the error must be a QaqError, got ${String(error)}`);
    return error;
  }
  throw new ConformanceFailure(`${what}: expected QaqError('${code}'), but nothing was thrown`);
}
