import { describe, expect, it } from 'vitest';
import { QaqError } from '@qaq/errors';
import { matMulAccuracyOption } from './options.js';

describe('--matmul-accuracy', () => {
  it('maps 0–4 to the runtime option and leaves it out when absent', () => {
    expect(matMulAccuracyOption(undefined)).toEqual({});
    expect(matMulAccuracyOption('4')).toEqual({ matMulNBitsAccuracyLevel: 4 });
    expect(matMulAccuracyOption('0')).toEqual({ matMulNBitsAccuracyLevel: 0 });
  });

  it('rejects other values with a usage error', () => {
    for (const value of ['5', '-1', '1.5', 'int8', '']) expect(() => matMulAccuracyOption(value)).toThrow(QaqError);
  });
});
