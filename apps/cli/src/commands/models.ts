import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  cachedModelPath,
  createStderrProgressReporter,
  defaultModelId,
  modelRegistry,
  resolveCacheDirectory,
  resolveModel,
} from '@qaq/models';
import { usageError } from '../cli-error.js';

export const modelsHelp = `qaq models [list]          the known models and whether they are cached
qaq models fetch [id|path|url ...]   fetch (default: ${defaultModelId}) and verify sha256
qaq models path <id|path|url>        print the verified local path (fetching if needed)
`;

export async function runModels(argv: readonly string[]): Promise<void> {
  const { positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: {} });
  const [subcommand = 'list', ...references] = positionals;
  const cacheDirectory = resolveCacheDirectory();
  switch (subcommand) {
    case 'list': {
      for (const model of modelRegistry) {
        const path = cachedModelPath(cacheDirectory, model.id, model.fileName);
        const state = existsSync(path) ? `cached at ${path}` : 'not cached';
        const marker = model.id === defaultModelId ? ' (default)' : '';
        process.stdout.write(`${model.id}${marker}\n  ${model.description}\n  ${model.license}; ${state}\n`);
      }
      return;
    }
    case 'fetch': {
      for (const reference of references.length === 0 ? [defaultModelId] : references) {
        const resolved = await resolveModel(reference, { onProgress: createStderrProgressReporter() });
        process.stdout.write(`${reference}: ${resolved.path} (sha256 ${resolved.sha256}, ${resolved.source})\n`);
      }
      return;
    }
    case 'path': {
      const [reference] = references;
      if (reference === undefined) throw usageError('models path needs a model id, path or URL');
      const resolved = await resolveModel(reference, { onProgress: createStderrProgressReporter() });
      process.stdout.write(`${resolved.path}\n`);
      return;
    }
    default:
      throw usageError(`unknown models subcommand "${subcommand}"`, { subcommand });
  }
}
