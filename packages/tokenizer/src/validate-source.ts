import { QaqError } from '@qaq/errors';
import type { TokenizerSource } from './tokenizer-source.js';

/** Rejects a source that would build a broken tokenizer, before anything is built from it. */
export function validateTokenizerSource(source: TokenizerSource): void {
  const vocabularySize = source.tokens.length;
  if (vocabularySize === 0) {
    throw new QaqError('invalid-tokenizer-source', 'A tokenizer needs at least one token', { details: { vocabularySize } });
  }
  for (const [name, values] of [
    ['scores', source.scores],
    ['tokenTypes', source.tokenTypes],
  ] as const) {
    if (values !== undefined && values.length !== vocabularySize) {
      throw new QaqError('invalid-tokenizer-source', `${name} has ${values.length} entries for ${vocabularySize} tokens`, {
        details: { field: name, entries: values.length, vocabularySize },
      });
    }
  }
  for (const [name, id] of [
    ['bosTokenId', source.bosTokenId],
    ['eosTokenId', source.eosTokenId],
    ['endOfTurnTokenId', source.endOfTurnTokenId],
    ['padTokenId', source.padTokenId],
    ['unknownTokenId', source.unknownTokenId],
  ] as const) {
    if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id < vocabularySize)) {
      throw new QaqError('invalid-tokenizer-source', `${name} = ${id} is outside the vocabulary`, {
        details: { field: name, id, vocabularySize },
      });
    }
  }
}
