import { Template } from '@huggingface/jinja';
import { QaqError } from '@qaq/errors';

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

export interface ChatTemplateOptions {
  /** Ends the prompt with the header of an assistant turn, ready for generation. */
  readonly addGenerationPrompt: boolean;
}

/** Renders a Jinja chat template the way transformers' `apply_chat_template(..., tokenize=False)` does. */
export class ChatTemplate {
  private readonly template: Template;

  constructor(
    source: string,
    private readonly specialTokens: Readonly<Record<string, string>>,
  ) {
    try {
      this.template = new Template(source);
    } catch (cause) {
      throw new QaqError('invalid-chat-template', 'The chat template does not parse as Jinja', { details: {}, cause });
    }
  }

  render(messages: readonly ChatMessage[], options: ChatTemplateOptions): string {
    for (const [index, message] of messages.entries()) {
      if (typeof message.role !== 'string' || typeof message.content !== 'string') {
        throw new QaqError('invalid-chat-message', 'A chat message needs a string role and string content', {
          details: { index },
        });
      }
    }
    try {
      return this.template.render({
        ...this.specialTokens,
        messages: messages.map((message) => ({ ...message })),
        add_generation_prompt: options.addGenerationPrompt,
      });
    } catch (cause) {
      // Templates reject conversations they cannot format via raise_exception(), which lands here.
      throw new QaqError('chat-template-failed', `The chat template failed: ${String(cause)}`, {
        details: { messageCount: messages.length },
        cause,
      });
    }
  }
}
