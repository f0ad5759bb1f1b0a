import { describe, expect, it } from 'vitest';
import { QaqError } from '@qaq/errors';
import { attentionThreadsOption } from './options.js';

describe('--attention-threads', () => {
  it('maps 1–16 to the runtime option and leaves it out when absent', () => {
    expect(attentionThreadsOption(undefined)).toEqual({});
    expect(attentionThreadsOption('2')).toEqual({ attentionThreads: 2 });
    expect(attentionThreadsOption('1')).toEqual({ attentionThreads: 1 });
  });

  it('rejects other values with a usage error', () => {
    for (const value of ['0', '17', '1.5', 'two', '']) expect(() => attentionThreadsOption(value)).toThrow(QaqError);
  });
});
