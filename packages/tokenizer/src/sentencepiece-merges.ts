/**
 * Merges for a Gemma SentencePiece vocabulary, which lists none, as Hugging Face derives them
 * (`generate_merges(vocab, vocab_scores={token: -position})` in transformers): every way to cut a token into two
 * tokens of the vocabulary is a merge. Gemma's scores do not follow its merge order, its file order does, so
 * merges are ranked by the position of the merged token (earlier first), then by the longer left piece first.
 * That order needs no sort: walk the tokens in file order and cut each from its right end.
 *
 * A spelling listed twice counts once, at the position of its last occurrence (Python dict semantics).
 */
export function deriveMergesInVocabularyOrder(tokens: readonly string[]): Array<[string, string]> {
  const lastId = new Map<string, number>();
  for (let id = 0; id < tokens.length; id++) lastId.set(tokens[id] as string, id);

  const merges: Array<[string, string]> = [];
  for (let id = 0; id < tokens.length; id++) {
    const token = tokens[id] as string;
    if (lastId.get(token) !== id) continue; // ranked at its last position
    // Cut at code points (Python string indices), longest left piece first.
    for (let cut = previousCut(token, token.length); cut > 0; cut = previousCut(token, cut)) {
      const left = token.slice(0, cut);
      const right = token.slice(cut);
      if (lastId.has(left) && lastId.has(right)) merges.push([left, right]);
    }
  }
  return merges;
}

/** The code-unit index of the code point boundary before `index`, never inside a surrogate pair. */
function previousCut(text: string, index: number): number {
  const before = index - 1;
  if (before <= 0) return 0;
  const unit = text.charCodeAt(before);
  const isLowSurrogate = unit >= 0xdc00 && unit <= 0xdfff;
  if (isLowSurrogate) {
    const lead = text.charCodeAt(before - 1);
    if (lead >= 0xd800 && lead <= 0xdbff) return before - 1;
  }
  return before;
}
