// Test-only: a small byte-level BPE vocabulary that exercises merges, control tokens and multi-byte text.
import { byteToCharacter } from './byte-level-alphabet.js';
import { TokenType, type TokenizerSource } from './tokenizer-source.js';

export function tinyByteLevelSource(overrides: Partial<TokenizerSource> = {}): TokenizerSource {
  const tokens = ['<|end|>', '<|start|>', ...byteToCharacter, 'Ġt', 'he', 'Ġthe', 'Ġw', 'or', 'ld'];
  const tokenTypes = tokens.map((_, id) => (id < 2 ? TokenType.control : TokenType.normal));
  return {
    modelKind: 'bpe',
    architecture: 'llama',
    tokens,
    merges: ['Ġ t', 'h e', 'Ġt he', 'Ġ w', 'o r', 'l d'],
    tokenTypes,
    bosTokenId: 1,
    eosTokenId: 0,
    addBosToken: false,
    addEosToken: false,
    preTokenizer: 'default',
    ...overrides,
  };
}

/** Id of a token of the tiny vocabulary. */
export function tinyId(token: string): number {
  const id = tinyByteLevelSource().tokens.indexOf(token);
  if (id < 0) throw new Error(`no token ${token}`);
  return id;
}
