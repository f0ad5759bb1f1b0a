import * as ort from 'onnxruntime-node';
import type { DecoderConfig } from '../decoder-config.js';

/**
 * Test-only runner: prefill, then token-by-token decode, keeping each layer's K/V in our own token-major
 * buffers ([capacity, kvHeads, headDim]) and feeding prefixes of them as past_key/past_value.
 */
export class DecoderRunner {
  private readonly keys: Float32Array[];
  private readonly values: Float32Array[];
  private length = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly config: DecoderConfig,
    private readonly capacity: number,
  ) {
    const size = capacity * config.keyValueHeadCount * config.headDim;
    this.keys = Array.from({ length: config.layerCount }, () => new Float32Array(size));
    this.values = Array.from({ length: config.layerCount }, () => new Float32Array(size));
  }

  static async create(model: Uint8Array, config: DecoderConfig, capacity = 256, threads = 2): Promise<DecoderRunner> {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      graphOptimizationLevel: 'all',
    });
    return new DecoderRunner(session, config, capacity);
  }

  get tokenCount(): number {
    return this.length;
  }

  reset(): void {
    this.length = 0;
  }

  /** Forgets every cached token from `length` on. */
  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  /**
   * Runs the new tokens after the cached ones; returns logits [S, vocab] (or [1, vocab] for last-only graphs).
   * `pastLimit(layer)` feeds that layer only its last N cached tokens (e.g. window − 1 on sliding layers).
   */
  async run(tokenIds: readonly number[], pastLimit?: (layer: number) => number | undefined): Promise<Float32Array> {
    const count = tokenIds.length;
    const { keyValueHeadCount, headDim, layerCount } = this.config;
    const rowSize = keyValueHeadCount * headDim;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokenIds, (id) => BigInt(id)), [1, count]),
      position_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: count }, (_, index) => BigInt(this.length + index)),
        [1, count],
      ),
    };
    for (let layer = 0; layer < layerCount; layer++) {
      const first = Math.max(0, this.length - (pastLimit?.(layer) ?? this.length));
      const shape = [1, this.length - first, keyValueHeadCount, headDim];
      const range = [first * rowSize, this.length * rowSize] as const;
      feeds[`past_key.${layer}`] = new ort.Tensor('float32', this.keys[layer]!.subarray(...range), shape);
      feeds[`past_value.${layer}`] = new ort.Tensor('float32', this.values[layer]!.subarray(...range), shape);
    }
    const results = await this.session.run(feeds);
    if (this.length + count > this.capacity) throw new Error('decoder runner capacity exceeded');
    for (let layer = 0; layer < layerCount; layer++) {
      this.keys[layer]!.set(results[`key.${layer}`]!.data as Float32Array, this.length * rowSize);
      this.values[layer]!.set(results[`value.${layer}`]!.data as Float32Array, this.length * rowSize);
    }
    this.length += count;
    return results['logits']!.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
