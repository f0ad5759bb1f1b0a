import { parseArgs } from 'node:util';
import { generate, type GenerationResult } from '@qaq/generation';
import { usageError } from '../cli-error.js';
import { kvMethodHelp, parseKvMethod } from '../kv-method.js';
import { loadTextModel } from '../load-model.js';
import { attentionThreadsHelp, attentionThreadsOption, matMulAccuracyOption, matMulAccuracyHelp, numberOption } from '../options.js';
import { promptTokens } from '../prompt.js';
import { formatMemoryLine, generateReport } from '../run-report.js';
import { samplingFlags, samplingFromFlags } from '../sampling-flags.js';

export const generateHelp = `qaq generate [options] "<prompt>"

Generates text from a prompt (through the model's chat template unless --raw).
  --model <id|path|url>   smollm2-135m (default), gemma3-270m, a .gguf path or an https URL
  --max-tokens N          most new tokens (default 128)
  --temperature T         0 = greedy (default 0.7)
  --top-k K  --top-p P  --seed S
  --stop <text>           stop string (repeatable)
${kvMethodHelp}${matMulAccuracyHelp}${attentionThreadsHelp}  --raw                   plain completion, no chat template
  --json                  one JSON object on stdout at the end instead of streaming text
`;

export async function runGenerate(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      'max-tokens': { type: 'string' },
      kv: { type: 'string' },
      'matmul-accuracy': { type: 'string' },
      'attention-threads': { type: 'string' },
      raw: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      stop: { type: 'string', multiple: true },
      ...samplingFlags,
    },
  });
  const prompt = positionals.join(' ');
  if (prompt.trim() === '') throw usageError('generate needs a prompt', {});
  const { method, name: kvMethod } = parseKvMethod(values.kv);
  const maxTokens = numberOption('max-tokens', values['max-tokens'], { minimum: 1, integer: true }) ?? 128;
  const sampling = samplingFromFlags(values);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  const { attentionThreads } = attentionThreadsOption(values['attention-threads']);
  const loaded = await loadTextModel(values.model, method, values.json ? () => {} : log, { ...matMulAccuracyOption(values['matmul-accuracy']), attentionThreads });
  const ids = promptTokens(loaded.tokenizer, prompt, values.raw);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    const run = generate(loaded.model, loaded.tokenizer, ids, {
      maxTokens,
      sampling,
      stopStrings: values.stop ?? [],
      signal: abort.signal,
    });
    let step = await run.next();
    while (step.done !== true) {
      if (step.value.type === 'text' && !values.json) process.stdout.write(step.value.text);
      step = await run.next();
    }
    const result: GenerationResult = step.value;
    const memory = loaded.model.memory();
    const context = { provider: loaded.model.provider, kvMethod, model: values.model ?? 'smollm2-135m', attentionThreads };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(generateReport(result, memory, context))}\n`);
    } else {
      process.stdout.write('\n');
      log(
        `${result.promptTokenCount} prompt tokens, ${result.tokenIds.length} generated (${result.finishReason}); ` +
          `prefill ${result.timings.prefillTokensPerSecond.toFixed(1)} tok/s, decode ${result.timings.decodeTokensPerSecond.toFixed(1)} tok/s on ${context.provider}`,
      );
      log(formatMemoryLine(memory, kvMethod));
    }
  } finally {
    process.off('SIGINT', onSignal);
    await loaded.model.dispose();
  }
}
