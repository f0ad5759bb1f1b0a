/**
 * Decodes UTF-8 (pure packages have no TextDecoder in their ES2022 typing). Malformed sequences become U+FFFD.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  let text = '';
  let index = 0;
  while (index < bytes.length) {
    const first = bytes[index] ?? 0;
    const length = first < 0x80 ? 1 : first >= 0xf0 && first < 0xf8 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 0;
    if (length === 0 || index + length > bytes.length) {
      text += '\ufffd';
      index += 1;
      continue;
    }
    let codePoint = length === 1 ? first : first & (0xff >> (length + 1));
    let valid = true;
    for (let offset = 1; offset < length; offset += 1) {
      const next = bytes[index + offset] ?? 0;
      if ((next & 0xc0) !== 0x80) valid = false;
      codePoint = codePoint * 64 + (next & 0x3f);
    }
    text += valid && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\ufffd';
    index += valid ? length : 1;
  }
  return text;
}
