/** Turns token ids into text as they arrive. */
export interface StreamDecoder {
  /** Adds one token; returns the text it completes, or '' while a multi-byte character is still incomplete. */
  push(id: number): string;
  /** Returns whatever is still held back (an incomplete character comes out as U+FFFD) and starts afresh. */
  flush(): string;
}

const replacementCharacter = '\uFFFD';

/**
 * The algorithm of Hugging Face tokenizers' `DecodeStream`: decode a short run of recent ids, and emit what
 * extends the previous decode of that run, unless it ends in U+FFFD (bytes of a character still to come).
 * Decoding with the preceding token as context keeps decoders that treat the first token specially correct.
 */
export function createStreamDecoder(
  decode: (ids: readonly number[]) => string,
  skip: (id: number) => boolean,
): StreamDecoder {
  let recentIds: number[] = [];
  let prefix = '';
  let prefixIndex = 0;
  return {
    push(id: number): string {
      if (skip(id)) return '';
      recentIds.push(id);
      const text = decode(recentIds);
      if (text.length <= prefix.length || text.endsWith(replacementCharacter) || !text.startsWith(prefix)) return '';
      const added = text.slice(prefix.length);
      const nextPrefixIndex = recentIds.length - prefixIndex;
      recentIds = recentIds.slice(prefixIndex);
      prefix = decode(recentIds);
      prefixIndex = nextPrefixIndex;
      return added;
    },
    flush(): string {
      const text = decode(recentIds);
      const rest = text.startsWith(prefix) ? text.slice(prefix.length) : text;
      recentIds = [];
      prefix = '';
      prefixIndex = 0;
      return rest;
    },
  };
}
