import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StopStringMatcher } from './stop-string-matcher.js';

describe('StopStringMatcher', () => {
  it('holds a possible stop-string prefix and releases it once ruled out', () => {
    const matcher = new StopStringMatcher(['</s>']);
    expect(matcher.push('Hello <')).toEqual({ text: 'Hello ', stopString: undefined });
    expect(matcher.push('/')).toEqual({ text: '', stopString: undefined });
    expect(matcher.push('x>')).toEqual({ text: '</x>', stopString: undefined });
    expect(matcher.push(' end <')).toEqual({ text: ' end ', stopString: undefined });
    expect(matcher.flush()).toBe('<');
  });

  it('finds a stop string split across pushes and drops it and what follows', () => {
    const matcher = new StopStringMatcher(['STOP']);
    expect(matcher.push('abcS')).toEqual({ text: 'abc', stopString: undefined });
    expect(matcher.push('T')).toEqual({ text: '', stopString: undefined });
    expect(matcher.push('OP and more')).toEqual({ text: '', stopString: 'STOP' });
    expect(matcher.hasStopped).toBe(true);
    expect(matcher.push('later')).toEqual({ text: '', stopString: undefined });
    expect(matcher.flush()).toBe('');
  });

  it('prefers the earliest of several stop strings and handles self-overlapping prefixes', () => {
    const matcher = new StopStringMatcher(['world', 'lo w']);
    expect(matcher.push('hel')).toEqual({ text: 'he', stopString: undefined });
    expect(matcher.push('lo world')).toEqual({ text: 'l', stopString: 'lo w' }); // emitted in all: 'hel'
    const overlap = new StopStringMatcher(['aab']);
    expect(overlap.push('aa')).toEqual({ text: '', stopString: undefined });
    expect(overlap.push('a')).toEqual({ text: 'a', stopString: undefined });
    expect(overlap.push('b!')).toEqual({ text: '', stopString: 'aab' });
  });

  it('for any split of any text, emits exactly the text before the first stop string', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', '<', '/', '>');
    const stops = ['</a>', 'bcb', 'cc'];
    fc.assert(
      fc.property(fc.array(fc.string({ unit: alphabet, maxLength: 5 }), { maxLength: 12 }), (pieces) => {
        const matcher = new StopStringMatcher(stops);
        let emitted = '';
        let stopString: string | undefined;
        for (const piece of pieces) {
          const step = matcher.push(piece);
          emitted += step.text;
          // Nothing emitted may ever end with an unfinished stop string that later completes.
          if (step.stopString !== undefined) {
            stopString = step.stopString;
            break;
          }
        }
        if (stopString === undefined) emitted += matcher.flush();
        const full = pieces.join('');
        const first = Math.min(...stops.map((stop) => full.indexOf(stop)).filter((index) => index >= 0));
        expect(emitted).toBe(Number.isFinite(first) ? full.slice(0, first) : full);
        expect(stopString !== undefined).toBe(Number.isFinite(first));
      }),
    );
  });

  it('rejects empty stop strings', () => {
    expect(() => new StopStringMatcher([''])).toThrow(/non-empty/);
  });
});
