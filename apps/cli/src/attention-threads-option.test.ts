import { describe, expect, it } from 'vitest';
import { QaqError } from '@qaq/errors';
import { attentionThreadsOption, automaticAttentionThreads } from './options.js';

describe('--attention-threads', () => {
  it('maps 1–16 to the runtime option', () => {
    expect(attentionThreadsOption('2')).toEqual({ attentionThreads: 2 });
    expect(attentionThreadsOption('1')).toEqual({ attentionThreads: 1 });
    expect(attentionThreadsOption('16')).toEqual({ attentionThreads: 16 });
  });

  it('defaults to auto: the available cores, at most 4', () => {
    expect(attentionThreadsOption(undefined, 2)).toEqual({ attentionThreads: 2 });
    expect(attentionThreadsOption('auto', 1)).toEqual({ attentionThreads: 1 });
    expect(attentionThreadsOption('auto', 64)).toEqual({ attentionThreads: 4 });
    expect(automaticAttentionThreads(0)).toBe(1);
    expect(automaticAttentionThreads(3)).toBe(3);
  });

  it('rejects other values with a usage error', () => {
    for (const value of ['0', '17', '1.5', 'two', '', 'Auto']) expect(() => attentionThreadsOption(value)).toThrow(QaqError);
  });
});
