import { describe, expect, it } from 'vitest';
import { createStreamDecoder } from './stream-decoder.js';

// Each id stands for a few UTF-8 bytes; decoding joins them, as a byte-level decoder does.
const pieces: Record<number, number[]> = {
  0: [0x68, 0x69], // "hi"
  1: [0xf0, 0x9f], // first half of 😀
  2: [0x98, 0x80], // second half of 😀
  3: [0x20], // " "
  9: [], // a token that decodes to nothing (a skipped special token)
};
const decodeBytes = (ids: readonly number[]): string =>
  new TextDecoder().decode(Uint8Array.from(ids.flatMap((id) => pieces[id] ?? [])));

describe('createStreamDecoder', () => {
  it('holds back a character until its last byte arrives', () => {
    const stream = createStreamDecoder(decodeBytes, () => false);
    expect([0, 3, 1, 2, 0].map((id) => stream.push(id))).toEqual(['hi', ' ', '', '😀', 'hi']);
    expect(stream.flush()).toBe('');
  });

  it('releases an unfinished character on flush and starts afresh', () => {
    const stream = createStreamDecoder(decodeBytes, () => false);
    expect(stream.push(0)).toBe('hi');
    expect(stream.push(1)).toBe('');
    expect(stream.flush()).toBe('\uFFFD');
    expect(stream.push(3)).toBe(' ');
  });

  it('drops the ids it is told to skip', () => {
    const stream = createStreamDecoder(decodeBytes, (id) => id === 9);
    expect([9, 0, 9, 3].map((id) => stream.push(id)).join('')).toBe('hi ');
  });
});
