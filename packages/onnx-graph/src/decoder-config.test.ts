import { describe, expect, it } from 'vitest';
import { isQaqError } from '@qaq/errors';
import { GgufTensorType, readGguf, type GgufFile, type GgufValue } from '@qaq/gguf';
import { readDecoderConfig } from './decoder-config.js';
import { loadLinearWeight } from './weight-format.js';
import { modelAvailable, readModelBytes } from './testing/model-files.test-utils.js';

function syntheticFile(metadata: Record<string, GgufValue>, tensors: GgufFile['tensors'] = [], byteLength = 0): GgufFile {
  return {
    version: 3,
    metadata: new Map(Object.entries(metadata)),
    metadataTypes: new Map(),
    tensors,
    alignment: 32,
    dataOffset: 0,
    byteLength,
    headerOnly: false,
  };
}

describe('readDecoderConfig', () => {
  it.runIf(modelAvailable('smollm2'))('reads SmolLM2 (llama)', () => {
    const config = readDecoderConfig(readGguf(readModelBytes('smollm2'), { headerOnly: true }));
    expect(config).toMatchObject({
      architecture: 'llama',
      layerCount: 30,
      hiddenSize: 576,
      feedForwardSize: 1536,
      queryHeadCount: 9,
      keyValueHeadCount: 3,
      headDim: 64,
      vocabSize: 49152,
      ropeTheta: 100000,
      ropeLocalTheta: 100000,
      slidingWindow: null,
      attentionScale: 0.125,
      contextLength: 8192,
      tiedEmbeddings: true,
      embeddingScale: 1,
      queryKeyNorm: false,
      sandwichNorms: false,
      activation: 'silu',
    });
    expect(config.rmsEpsilon).toBeCloseTo(1e-5, 10);
    expect(config.layerKinds.every((kind) => kind === 'full')).toBe(true);
  });

  it.runIf(modelAvailable('gemma3'))('reads Gemma 3 270M', () => {
    const config = readDecoderConfig(readGguf(readModelBytes('gemma3'), { headerOnly: true }));
    expect(config).toMatchObject({
      architecture: 'gemma3',
      layerCount: 18,
      hiddenSize: 640,
      feedForwardSize: 2048,
      queryHeadCount: 4,
      keyValueHeadCount: 1,
      headDim: 256,
      vocabSize: 262144,
      ropeTheta: 1e6,
      ropeLocalTheta: 1e4,
      slidingWindow: 512,
      slidingWindowPattern: 6,
      queryPreAttentionScalar: 256,
      attentionScale: 1 / 16,
      contextLength: 32768,
      tiedEmbeddings: true,
      embeddingScale: Math.fround(Math.sqrt(640)),
      queryKeyNorm: true,
      sandwichNorms: true,
      activation: 'gelu-tanh',
    });
    expect(config.layerKinds.map((kind) => (kind === 'full' ? 'F' : 's')).join('')).toBe('sssssFsssssFsssssF');
  });

  it('rejects other architectures', () => {
    try {
      readDecoderConfig(syntheticFile({ 'general.architecture': 'qwen2' }));
      expect.unreachable();
    } catch (error) {
      expect(isQaqError(error, 'unsupported-architecture')).toBe(true);
    }
  });

  it('rejects tensor types it cannot decode', () => {
    const tensor = {
      name: 'blk.0.attn_q.weight',
      type: GgufTensorType.IQ2_XXS,
      dimensions: [256, 2],
      elementCount: 512,
      byteOffset: 0,
      byteLength: 132,
    };
    const file = syntheticFile({}, [tensor], 132);
    try {
      loadLinearWeight(file, new Uint8Array(132), tensor, 'nbits');
      expect.unreachable();
    } catch (error) {
      expect(isQaqError(error, 'unsupported-tensor-type')).toBe(true);
    }
  });
});
