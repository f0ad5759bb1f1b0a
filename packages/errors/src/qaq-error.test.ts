import { describe, expect, it } from 'vitest';
import { QaqError, isQaqError } from './index.js';

describe('QaqError', () => {
  it('carries a code, a message, frozen details and a cause', () => {
    const cause = new Error('root');
    const error = new QaqError('invalid-bit-width', 'B must be in 1..8 or 16', { details: { bits: 9 }, cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('invalid-bit-width');
    expect(error.details).toEqual({ bits: 9 });
    expect(Object.isFrozen(error.details)).toBe(true);
    expect(error.cause).toBe(cause);
    expect(isQaqError(error)).toBe(true);
    expect(isQaqError(error, 'invalid-bit-width')).toBe(true);
    expect(isQaqError(error, 'other')).toBe(false);
    expect(isQaqError(new Error('x'))).toBe(false);
  });
});
