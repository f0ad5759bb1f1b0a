import { describe, expect, it } from 'vitest';
import type { Backend } from '@qaq/backend-spec';
import { readModelOperators } from '@qaq/onnx-graph';
import { loadLanguageModel } from './load-language-model.js';
import { modelPresent, readModel } from './model-files.test-utils.js';

class StopAfterGraph extends Error {}

/** A backend that records the first model handed to it and stops the load there (no session is needed). */
function recordingBackend(): { backend: Backend; models: Uint8Array[] } {
  const models: Uint8Array[] = [];
  const backend = {
    createSession: async (model: Uint8Array) => {
      models.push(model);
      throw new StopAfterGraph();
    },
  } as unknown as Backend;
  return { backend, models };
}

function matMulNBitsLevels(model: Uint8Array): Set<number> {
  return new Set(
    readModelOperators(model)
      .nodes.filter((node) => node.opType === 'MatMulNBits')
      .map((node) => node.intAttributes['accuracy_level']!),
  );
}

describe('loadLanguageModel matMulNBitsAccuracyLevel and nbitsOperator', () => {
  it.runIf(modelPresent('smollm2'))('reaches the graphs of the dense (fp32 KV) and segmented (fp16 KV) paths', async () => {
    const gguf = readModel('smollm2');
    for (const kv of ['fp32', 'fp16']) {
      for (const level of [undefined, 4] as const) {
        const { backend, models } = recordingBackend();
        await expect(
          loadLanguageModel({ backend, gguf, kv, ...(level === undefined ? {} : { matMulNBitsAccuracyLevel: level }) }),
        ).rejects.toBeInstanceOf(StopAfterGraph);
        expect(models.length, kv).toBe(1);
        expect(matMulNBitsLevels(models[0]!), `${kv}, level ${level}`).toEqual(new Set([level ?? 0]));
      }
    }
  }, 120_000);

  it.runIf(modelPresent('smollm2'))("passes nbitsOperator 'dequantize-linear' to the segmented graphs", async () => {
    const { backend, models } = recordingBackend();
    await expect(
      loadLanguageModel({ backend, gguf: readModel('smollm2'), kv: 'fp16', nbitsOperator: 'dequantize-linear' }),
    ).rejects.toBeInstanceOf(StopAfterGraph);
    const operators = readModelOperators(models[0]!).nodes.map((node) => node.opType);
    expect(operators).toContain('DequantizeLinear');
    expect(operators).not.toContain('MatMulNBits');
  }, 60_000);
});
