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

/** Spells arbitrary text in the byte-level alphabet, one character per UTF-8 byte. */
export function spellInByteLevel(text: string): string {
  let spelled = '';
  for (const byte of utf8Bytes(text)) spelled += byteToCharacter[byte];
  return spelled;
}

// Written out because this pure package compiles without DOM or Node typings (no TextEncoder declared).
function utf8Bytes(text: string): number[] {
  const bytes: number[] = [];
  for (const character of text) {
    const codePoint = character.codePointAt(0) as number;
    if (codePoint < 0x80) bytes.push(codePoint);
    else if (codePoint < 0x800) bytes.push(0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f));
    else if (codePoint < 0x10000) {
      bytes.push(0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f));
    } else {
      bytes.push(
        0xf0 | (codePoint >> 18),
        0x80 | ((codePoint >> 12) & 0x3f),
        0x80 | ((codePoint >> 6) & 0x3f),
        0x80 | (codePoint & 0x3f),
      );
    }
  }
  return bytes;
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
