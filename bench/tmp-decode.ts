import { readFileSync } from 'node:fs';
import { readGguf } from '@qaq/gguf';
import { createTokenizer, tokenizerSourceFromGgufMetadata } from '@qaq/tokenizer';
const data = JSON.parse(readFileSync('/tmp/g512.json', 'utf8')) as { results: { engine: string; decodedTokens: number[] }[] };
const file = readGguf(new Uint8Array(readFileSync(`${process.env.HOME}/.cache/qaq/models/gemma3-270m/gemma-3-270m-q4_k_m.gguf`)));
const tok = createTokenizer(tokenizerSourceFromGgufMetadata(file.metadata));
for (const r of data.results) console.log(r.engine, JSON.stringify(tok.decode(Int32Array.from(r.decodedTokens))), r.decodedTokens.join(','));
