import { corruptGguf } from './gguf-errors.js';

interface Utf8Decoder {
  decode(bytes: Uint8Array): string;
}
type Utf8DecoderConstructor = new (label: string, options: { fatal: boolean; ignoreBOM: boolean }) => Utf8Decoder;

// TextDecoder exists in every supported runtime (browsers, Node ≥ 20) but not in the ES2022 lib
// this pure package compiles against; this is the one boundary where it is looked up.
function makeDecoder(fatal: boolean): Utf8Decoder {
  const constructor = (globalThis as { TextDecoder?: unknown }).TextDecoder;
  if (typeof constructor !== 'function') {
    throw corruptGguf('no TextDecoder in this runtime', {});
  }
  // ignoreBOM keeps a leading U+FEFF: it is part of some vocabulary entries (Gemma has six), not a byte-order mark.
  return new (constructor as Utf8DecoderConstructor)('utf-8', { fatal, ignoreBOM: true });
}

let strictDecoder: Utf8Decoder | undefined;
let replacingDecoder: Utf8Decoder | undefined;

/** Decodes UTF-8; ASCII takes a fast path because most keys and tokens are ASCII. */
export function decodeUtf8(bytes: Uint8Array, invalid: 'error' | 'replace', offset: number): string {
  const length = bytes.length;
  if (length <= 64) {
    let ascii = true;
    for (let index = 0; index < length; index++) {
      if ((bytes[index] as number) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  if (invalid === 'replace') {
    replacingDecoder ??= makeDecoder(false);
    return replacingDecoder.decode(bytes);
  }
  strictDecoder ??= makeDecoder(true);
  try {
    return strictDecoder.decode(bytes);
  } catch (error) {
    throw corruptGguf('string is not valid UTF-8', { offset, byteLength: length, cause: String(error) });
  }
}
