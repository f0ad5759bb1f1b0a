import type { Tokenizer } from '@qaq/tokenizer';

/** The prompt as token ids: through the model's chat template (one user turn) when it has one. */
export function encodePrompt(tokenizer: Tokenizer, prompt: string): Int32Array {
  if (!tokenizer.hasChatTemplate) return tokenizer.encode(prompt, { addSpecialTokens: true });
  const text = tokenizer.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true });
  return tokenizer.encode(text, { addSpecialTokens: false });
}
