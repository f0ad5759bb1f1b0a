import { describe, expect, it } from 'vitest';
import { deriveMergesInVocabularyOrder } from './sentencepiece-merges.js';

describe('deriveMergesInVocabularyOrder', () => {
  it('ranks by the position of the merged token, then the longer left piece first', () => {
    const tokens = ['a', 'b', 'c', 'abc', 'ab', 'bc', 'x'];
    expect(deriveMergesInVocabularyOrder(tokens)).toEqual([
      ['ab', 'c'],
      ['a', 'bc'],
      ['a', 'b'],
      ['b', 'c'],
    ]);
  });

  it('cuts at code points, never inside a surrogate pair', () => {
    const tokens = ['😀', 'a', '😀a', 'a😀', '😀😀'];
    expect(deriveMergesInVocabularyOrder(tokens)).toEqual([
      ['😀', 'a'],
      ['a', '😀'],
      ['😀', '😀'],
    ]);
  });

  it('ranks a spelling listed twice at its last position, once', () => {
    const tokens = ['a', 'b', 'ab', 'c', 'bc', 'ab'];
    expect(deriveMergesInVocabularyOrder(tokens)).toEqual([
      ['b', 'c'],
      ['a', 'b'],
    ]);
  });
});
