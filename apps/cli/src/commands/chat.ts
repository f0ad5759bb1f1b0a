import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { generate } from '@qaq/generation';
import type { ChatMessage } from '@qaq/tokenizer';
import { kvMethodHelp, parseKvMethod } from '../kv-method.js';
import { loadTextModel } from '../load-model.js';
import { attentionThreadsHelp, attentionThreadsOption, matMulAccuracyOption, matMulAccuracyHelp, numberOption } from '../options.js';
import { promptTokens } from '../prompt.js';
import { formatMemoryLine } from '../run-report.js';
import { samplingFlags, samplingFromFlags } from '../sampling-flags.js';

export const chatHelp = `qaq chat [options]

Interactive chat through the model's chat template. Type /exit (or Ctrl-D) to leave, /reset to start over.
  --model <id|path|url>  --max-tokens N  --temperature T  --top-k K  --top-p P  --seed S
${kvMethodHelp}${matMulAccuracyHelp}${attentionThreadsHelp}  --system <text>        a system message
`;

export async function runChat(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string' },
      'max-tokens': { type: 'string' },
      kv: { type: 'string' },
      'matmul-accuracy': { type: 'string' },
      'attention-threads': { type: 'string' },
      system: { type: 'string' },
      ...samplingFlags,
    },
  });
  const { method, name: kvMethod } = parseKvMethod(values.kv);
  const maxTokens = numberOption('max-tokens', values['max-tokens'], { minimum: 1, integer: true }) ?? 256;
  const sampling = samplingFromFlags(values);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const loaded = await loadTextModel(values.model, method, log, { ...matMulAccuracyOption(values['matmul-accuracy']), ...attentionThreadsOption(values['attention-threads']) });
  const start: ChatMessage[] = values.system === undefined ? [] : [{ role: 'system', content: values.system }];
  let conversation = [...start];
  const terminal = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  log('Ready. /exit to leave, /reset to start over.');
  try {
    for (;;) {
      let line: string;
      try {
        line = await terminal.question('> ');
      } catch {
        break; // input closed
      }
      const text = line.trim();
      if (text === '/exit') break;
      if (text === '/reset') {
        conversation = [...start];
        continue;
      }
      if (text === '') continue;
      conversation.push({ role: 'user', content: text });
      // The whole conversation is re-encoded each turn: templates may render earlier turns differently once a
      // later one follows, so reusing the cache across turns would need a token-prefix check.
      const ids = promptTokens(loaded.tokenizer, conversation, false);
      const run = generate(loaded.model, loaded.tokenizer, ids, { maxTokens, sampling });
      let step = await run.next();
      while (step.done !== true) {
        if (step.value.type === 'text') process.stdout.write(step.value.text);
        step = await run.next();
      }
      process.stdout.write('\n');
      conversation.push({ role: 'assistant', content: step.value.text });
      log(`[${step.value.timings.decodeTokensPerSecond.toFixed(1)} tok/s] ${formatMemoryLine(loaded.model.memory(), kvMethod)}`);
    }
  } finally {
    terminal.close();
    await loaded.model.dispose();
  }
}
