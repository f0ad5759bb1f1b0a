/**
 * Split patterns for byte-level BPE vocabularies whose merges were learned on text split differently from GPT-2,
 * keyed by GGUF `tokenizer.ggml.pre`. Copied from transformers' `GGUF_PRE_TOKENIZER_SPLITS`; any other name
 * (SmolLM2's `smollm`, `gpt2`, `default`, …) gets the GPT-2 split built into the ByteLevel pre-tokenizer,
 * exactly as Hugging Face's GGUF loader does.
 */
const llama3Split =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" +
  '| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';

const qwen2Split =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" +
  '| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';

const gpt4oSplit =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?" +
  "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?" +
  '|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';

const splitsByPreTokenizer: ReadonlyMap<string, string> = new Map([
  ...['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2', 'dbrx', 'smaug-bpe'].map(
    (name) => [name, llama3Split] as const,
  ),
  ...['qwen2', 'deepseek-r1-qwen', 'megrez'].map((name) => [name, qwen2Split] as const),
  ...['gpt-4o', 'llama4', 'minimax-m2'].map((name) => [name, gpt4oSplit] as const),
]);

/** The Oniguruma split pattern for this pre-tokenizer name, or undefined for the GPT-2 default. */
export function splitPatternForPreTokenizer(preTokenizer: string | undefined): string | undefined {
  return preTokenizer === undefined ? undefined : splitsByPreTokenizer.get(preTokenizer);
}
