import type { Tokenizer } from '@qaq/tokenizer';

/**
 * The first `count` tokens of the text, BOS included where the model uses one — the same rule as `qaq eval`
 * (commands/eval.ts), so the llama.cpp peers are fed exactly the ids our methods were evaluated on (the sweep also
 * checks that the token counts match).
 */
export function tokenizeTextPrefix(tokenizer: Pick<Tokenizer, 'encode'>, text: string, count: number): Int32Array {
  for (let characters = count * 6; ; characters *= 2) {
    const tokens = tokenizer.encode(text.slice(0, characters), { addSpecialTokens: true });
    if (tokens.length >= count || characters >= text.length) return tokens.slice(0, count);
  }
}
