import { describe, expect, it } from 'vitest';
import { byteToCharacter, isByteLevelSpelled, spellInByteLevel } from './byte-level-alphabet.js';

describe('byte-level alphabet', () => {
  it('maps the 256 bytes to 256 distinct characters, printable Latin-1 to itself', () => {
    expect(new Set(byteToCharacter).size).toBe(256);
    expect(byteToCharacter[0x41]).toBe('A');
    expect(byteToCharacter[0xe9]).toBe('é');
    // GPT-2's well-known spellings of space, newline and tab.
    expect(byteToCharacter[0x20]).toBe('Ġ');
    expect(byteToCharacter[0x0a]).toBe('Ċ');
    expect(byteToCharacter[0x09]).toBe('ĉ');
    expect(byteToCharacter[0x00]).toBe('Ā');
  });

  it('spells text byte by byte and recognises spelled tokens', () => {
    expect(spellInByteLevel(' the')).toBe('Ġthe');
    expect(spellInByteLevel('é')).toBe('Ã©');
    for (const text of ['aé', '中', '😀', '\u07ff\u0800\uffff\u{10000}\u{10ffff}']) {
      const expected = Array.from(new TextEncoder().encode(text), (byte) => byteToCharacter[byte]).join('');
      expect(spellInByteLevel(text)).toBe(expected);
    }
    expect(isByteLevelSpelled('Ġthe')).toBe(true);
    expect(isByteLevelSpelled('<|im_end|>')).toBe(true);
    expect(isByteLevelSpelled(' the')).toBe(false);
    expect(isByteLevelSpelled('▁the')).toBe(false);
  });
});
