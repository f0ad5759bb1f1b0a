#!/usr/bin/env node
import { isQaqError } from '@qaq/errors';
import { chatHelp, runChat } from './commands/chat.js';
import { evalHelp, runEval } from './commands/eval.js';
import { generateHelp, runGenerate } from './commands/generate.js';
import { gpuHelp, runGpu } from './commands/gpu.js';
import { modelsHelp, runModels } from './commands/models.js';

const commands: Record<string, { run: (argv: readonly string[]) => Promise<void>; help: string }> = {
  generate: { run: runGenerate, help: generateHelp },
  chat: { run: runChat, help: chatHelp },
  models: { run: runModels, help: modelsHelp },
  eval: { run: runEval, help: evalHelp },
  gpu: { run: runGpu, help: gpuHelp },
};

const overview = `qaq — language models with a quality-adaptive quantized KV cache

Commands:
${Object.values(commands)
  .map((command) => command.help.split('\n')[0])
  .join('\n')}

Run "qaq <command> --help" for a command's options.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`Unknown command "${name}".\n\n${overview}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help);
    return 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (error) {
    if (isQaqError(error)) {
      process.stderr.write(`error [${error.code}]: ${error.message}\n`);
      if (error.code === 'invalid-arguments' || error.code.startsWith('ERR_PARSE_ARGS')) process.stderr.write(`\n${command.help}`);
      return error.code === 'invalid-arguments' ? 2 : 1;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${error.message}\n\n${command.help}`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
