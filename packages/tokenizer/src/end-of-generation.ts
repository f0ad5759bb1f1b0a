import type { TokenizerSource } from './tokenizer-source.js';

/** Token texts that end a turn in common chat formats (the list llama.cpp uses to find end-of-generation ids). */
const endOfGenerationTexts: ReadonlySet<string> = new Set([
  '<|eot_id|>',
  '<|im_end|>',
  '<|end|>',
  '<end_of_turn>',
  '<|endoftext|>',
  '<|end_of_text|>',
  '<EOT>',
  '_<EOT>',
  '<｜end▁of▁sentence｜>',
  '<end_of_utterance>',
  '<|eom_id|>',
  '<|return|>',
  '<|call|>',
]);

/** EOS first, then end-of-turn, then every token whose text is a known end marker, without repeats. */
export function endOfGenerationTokenIds(source: TokenizerSource): readonly number[] {
  const ids: number[] = [];
  const add = (id: number | undefined): void => {
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  };
  add(source.eosTokenId);
  add(source.endOfTurnTokenId);
  source.tokens.forEach((token, id) => {
    if (endOfGenerationTexts.has(token)) add(id);
  });
  return Object.freeze(ids);
}
