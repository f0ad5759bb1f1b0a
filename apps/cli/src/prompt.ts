import type { ChatMessage, Tokenizer } from '@qaq/tokenizer';

/**
 * Token ids for a prompt: through the model's chat template (as a single user turn, or a whole conversation) when it
 * has one and `raw` is false, else the plain text with the tokenizer's own special tokens (e.g. BOS).
 */
export function promptTokens(tokenizer: Tokenizer, input: string | readonly ChatMessage[], raw: boolean): Int32Array {
  if (typeof input === 'string' && (raw || !tokenizer.hasChatTemplate)) {
    return tokenizer.encode(input, { addSpecialTokens: true });
  }
  const messages = typeof input === 'string' ? [{ role: 'user', content: input }] : input;
  // The rendered template already holds the special tokens it needs (BOS included where the model uses one).
  return tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }), { addSpecialTokens: false });
}
