import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStaticServer, type StaticServer } from '@qaq/browser-testing';
import { resolveCacheDirectory } from '@qaq/models';
import { build } from 'vite';

/** apps/web */
export const appDirectory = join(dirname(fileURLToPath(import.meta.url)), '..');
export const distDirectory = join(appDirectory, 'dist');

/** The default model as the tests and the measurement serve it: `<cache>/models/` mounted at `/models/`. */
export const defaultModelPath = '/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf';

export function modelsDirectory(): string {
  return join(resolveCacheDirectory(), 'models');
}

export function defaultModelAvailable(): boolean {
  return existsSync(join(modelsDirectory(), 'smollm2-135m', 'SmolLM2-135M-Instruct.Q4_1.gguf'));
}

/** `vite build` of the app (the same as `pnpm --filter @qaq/web build`). */
export async function buildApp(): Promise<void> {
  await build({ root: appDirectory, configFile: join(appDirectory, 'vite.config.ts'), logLevel: 'warn' });
}

/** The built app at `/` and the local model cache at `/models/`, on 127.0.0.1. */
export function serveApp(): Promise<StaticServer> {
  return startStaticServer({ mounts: { '/': distDirectory, '/models/': modelsDirectory() } });
}
