import * as ort from 'onnxruntime-node';
import type { SegmentedDecoder } from '../build-segments.js';

/**
 * Test-only runner for split mode: runs the segments in turn and does attention itself, in float64 JavaScript,
 * over its own token-major K/V cache — the role a quantized-cache attention plays in the runtime.
 */
export class SegmentRunner {
  private readonly keys: number[][] = [];
  private readonly values: number[][] = [];
  private length = 0;

  private constructor(
    private readonly decoder: SegmentedDecoder,
    private readonly sessions: ort.InferenceSession[],
  ) {
    for (let layer = 0; layer < decoder.config.layerCount; layer++) {
      this.keys.push([]);
      this.values.push([]);
    }
  }

  static async create(decoder: SegmentedDecoder): Promise<SegmentRunner> {
    const sessions: ort.InferenceSession[] = [];
    for (const segment of decoder.segments) {
      sessions.push(await ort.InferenceSession.create(segment.model, { intraOpNumThreads: 2 }));
    }
    return new SegmentRunner(decoder, sessions);
  }

  async run(tokenIds: readonly number[]): Promise<Float32Array> {
    const count = tokenIds.length;
    const { config } = this.decoder;
    const positions = new ort.Tensor('int64', BigInt64Array.from({ length: count }, (_, i) => BigInt(this.length + i)), [1, count]);
    let feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokenIds, (id) => BigInt(id)), [1, count]),
      position_ids: positions,
    };
    for (let layer = 0; layer <= config.layerCount; layer++) {
      const results = await this.sessions[layer]!.run(feeds);
      if (layer === config.layerCount) {
        this.length += count;
        return results['logits']!.data as Float32Array;
      }
      const attended = this.attend(
        layer,
        results[`query.${layer}`]!.data as Float32Array,
        results[`key.${layer}`]!.data as Float32Array,
        results[`value.${layer}`]!.data as Float32Array,
        count,
      );
      feeds = {
        [`hidden.${layer}`]: results[`hidden.${layer}`]!,
        [`attention.${layer}`]: new ort.Tensor('float32', attended, [1, count, config.queryHeadCount * config.headDim]),
      };
      if (layer + 1 < config.layerCount) feeds['position_ids'] = positions;
    }
    throw new Error('unreachable');
  }

  private attend(layer: number, query: Float32Array, key: Float32Array, value: Float32Array, count: number): Float32Array {
    const { queryHeadCount, keyValueHeadCount, headDim, attentionScale, slidingWindow, layerKinds } = this.decoder.config;
    const keys = this.keys[layer]!;
    const values = this.values[layer]!;
    keys.push(...key);
    values.push(...value);
    const rowSize = keyValueHeadCount * headDim;
    const group = queryHeadCount / keyValueHeadCount;
    const out = new Float32Array(count * queryHeadCount * headDim);
    for (let token = 0; token < count; token++) {
      const position = this.length + token;
      for (let head = 0; head < queryHeadCount; head++) {
        const kvHead = Math.floor(head / group);
        const scores: number[] = [];
        for (let keyPosition = 0; keyPosition <= position; keyPosition++) {
          const outside = layerKinds[layer] === 'sliding' && slidingWindow !== null && keyPosition <= position - slidingWindow;
          let dot = 0;
          for (let d = 0; d < headDim; d++) {
            dot += query[(token * queryHeadCount + head) * headDim + d]! * keys[keyPosition * rowSize + kvHead * headDim + d]!;
          }
          scores.push(outside ? -Infinity : dot * attentionScale);
        }
        const max = Math.max(...scores);
        const weights = scores.map((score) => Math.exp(score - max));
        const sum = weights.reduce((a, b) => a + b, 0);
        for (let d = 0; d < headDim; d++) {
          let total = 0;
          weights.forEach((weight, keyPosition) => {
            total += weight * values[keyPosition * rowSize + kvHead * headDim + d]!;
          });
          out[(token * queryHeadCount + head) * headDim + d] = total / sum;
        }
      }
    }
    return out;
  }

  async release(): Promise<void> {
    for (const session of this.sessions) await session.release();
  }
}
