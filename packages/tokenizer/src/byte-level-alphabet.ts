/**
 * GPT-2's byte-to-character table (`bytes_to_unicode`): printable Latin-1 bytes stand for themselves, the other 68
 * bytes map to U+0100 onward. Byte-level BPE vocabularies spell every token in these 256 characters.
 */
export const byteToCharacter: readonly string[] = buildByteToCharacter();

const alphabet: ReadonlySet<string> = new Set(byteToCharacter);

/** True when every character of `token` belongs to the byte-level alphabet. */
export function isByteLevelSpelled(token: string): boolean {
  for (const character of token) {
    if (!alphabet.has(character)) return false;
  }
  return true;
}

const encoder = new TextEncoder();

/** Spells arbitrary text in the byte-level alphabet, one character per UTF-8 byte. */
export function spellInByteLevel(text: string): string {
  let spelled = '';
  for (const byte of encoder.encode(text)) spelled += byteToCharacter[byte];
  return spelled;
}

function buildByteToCharacter(): string[] {
  const printable = (byte: number): boolean =>
    (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
  const table: string[] = [];
  let next = 0;
  for (let byte = 0; byte < 256; byte++) {
    table.push(String.fromCodePoint(printable(byte) ? byte : 256 + next++));
  }
  return table;
}
