import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dequantizeKeyChannelBlock,
  dequantizeTokensUniform,
  keyChannelBlockByteLength,
  quantizeKeyChannelBlock,
  quantizeTokensUniform,
  tokenGroupsByteLength,
} from './baselines.js';
import { quantizeAndPackGroup } from './quantize-and-pack.js';

const blockArbitrary = fc
  .record({
    tokenCount: fc.integer({ min: 1, max: 40 }),
    channels: fc.integer({ min: 1, max: 20 }),
    bits: fc.integer({ min: 1, max: 8 }),
    offset: fc.integer({ min: 0, max: 3 }),
  })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      values: fc.array(fc.float({ min: -100, max: 100, noNaN: true }), {
        minLength: shape.tokenCount * shape.channels,
        maxLength: shape.tokenCount * shape.channels,
      }),
    }),
  );

describe('uniform per-token baseline', () => {
  it('packs each token group with quantizeAndPackGroup and reconstructs within step/2', () => {
    fc.assert(
      fc.property(blockArbitrary, ({ shape: { tokenCount, channels, bits, offset }, values }) => {
        const source = new Float32Array(offset + values.length);
        source.set(values, offset);
        const groupBytes = Math.ceil((channels * bits) / 8);
        expect(tokenGroupsByteLength(tokenCount, channels, bits)).toBe(tokenCount * groupBytes);
        const packed = new Uint8Array(offset + tokenCount * groupBytes);
        const parameters = new Float32Array(offset + 2 * tokenCount);
        quantizeTokensUniform(source, offset, tokenCount, channels, bits, packed, offset, parameters, offset);
        const target = new Float32Array(offset + values.length);
        dequantizeTokensUniform(packed, offset, parameters, offset, tokenCount, channels, bits, target, offset);
        for (let token = 0; token < tokenCount; token += 1) {
          const expectedBytes = new Uint8Array(groupBytes);
          const expectedParameters = new Float32Array(2);
          quantizeAndPackGroup(source, offset + token * channels, channels, 1, bits, expectedBytes, 0, expectedParameters, 0);
          expect(packed.subarray(offset + token * groupBytes, offset + (token + 1) * groupBytes)).toEqual(expectedBytes);
          expect(parameters.subarray(offset + 2 * token, offset + 2 * token + 2)).toEqual(expectedParameters);
          const step = expectedParameters[1] as number;
          let worst = 0;
          for (let channel = 0; channel < channels; channel += 1) {
            const index = offset + token * channels + channel;
            worst = Math.max(worst, Math.abs((source[index] as number) - (target[index] as number)));
          }
          expect(worst).toBeLessThanOrEqual(step / 2 + 2 ** -17);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('KIVI-style per-channel key blocks', () => {
  it('quantizes each channel over the block (stride D) and reconstructs within that channel step/2', () => {
    fc.assert(
      fc.property(blockArbitrary, ({ shape: { tokenCount, channels, bits, offset }, values }) => {
        const keys = new Float32Array(offset + values.length);
        keys.set(values, offset);
        const byteLength = keyChannelBlockByteLength(tokenCount, channels, bits);
        const channelBytes = Math.ceil((tokenCount * bits) / 8);
        expect(byteLength).toBe(channels * channelBytes);
        const packed = new Uint8Array(offset + byteLength);
        const parameters = new Float32Array(offset + 2 * channels);
        quantizeKeyChannelBlock(keys, tokenCount, channels, bits, packed, parameters, {
          keysOffset: offset,
          packedOffset: offset,
          parametersOffset: offset,
        });
        const target = new Float32Array(offset + values.length).fill(42);
        dequantizeKeyChannelBlock(packed, parameters, tokenCount, channels, bits, target, {
          packedOffset: offset,
          parametersOffset: offset,
          targetOffset: offset,
        });
        for (let index = 0; index < offset; index += 1) expect(target[index]).toBe(42);
        for (let channel = 0; channel < channels; channel += 1) {
          const expectedBytes = new Uint8Array(channelBytes);
          const expectedParameters = new Float32Array(2);
          quantizeAndPackGroup(keys, offset + channel, tokenCount, channels, bits, expectedBytes, 0, expectedParameters, 0);
          expect(packed.subarray(offset + channel * channelBytes, offset + (channel + 1) * channelBytes)).toEqual(expectedBytes);
          const step = expectedParameters[1] as number;
          expect(parameters[offset + 2 * channel + 1]).toBe(step);
          let worst = 0;
          for (let token = 0; token < tokenCount; token += 1) {
            const index = offset + token * channels + channel;
            worst = Math.max(worst, Math.abs((keys[index] as number) - (target[index] as number)));
          }
          expect(worst).toBeLessThanOrEqual(step / 2 + 2 ** -17);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('per-channel groups beat per-token groups on channel-offset keys (the point of KIVI)', () => {
    // Keys with a large per-channel offset: per-token ranges span the offsets, per-channel ranges do not.
    const tokenCount = 32;
    const channels = 16;
    const keys = new Float32Array(tokenCount * channels);
    for (let token = 0; token < tokenCount; token += 1) {
      for (let channel = 0; channel < channels; channel += 1) {
        keys[token * channels + channel] = (channel % 2 === 0 ? 20 : -20) + Math.sin(token * 7 + channel * 3);
      }
    }
    const meanSquaredError = (target: Float32Array): number =>
      keys.reduce((sum, value, index) => sum + (value - (target[index] as number)) ** 2, 0) / keys.length;
    const channelTarget = new Float32Array(keys.length);
    const channelPacked = new Uint8Array(keyChannelBlockByteLength(tokenCount, channels, 2));
    const channelParameters = new Float32Array(2 * channels);
    quantizeKeyChannelBlock(keys, tokenCount, channels, 2, channelPacked, channelParameters);
    dequantizeKeyChannelBlock(channelPacked, channelParameters, tokenCount, channels, 2, channelTarget);
    const tokenTarget = new Float32Array(keys.length);
    const tokenPacked = new Uint8Array(tokenGroupsByteLength(tokenCount, channels, 2));
    const tokenParameters = new Float32Array(2 * tokenCount);
    quantizeTokensUniform(keys, 0, tokenCount, channels, 2, tokenPacked, 0, tokenParameters, 0);
    dequantizeTokensUniform(tokenPacked, 0, tokenParameters, 0, tokenCount, channels, 2, tokenTarget, 0);
    expect(meanSquaredError(channelTarget)).toBeLessThan(meanSquaredError(tokenTarget) / 50);
  });

  it('validates the whole block before writing anything', () => {
    const keys = new Float32Array(12).fill(1);
    keys[11] = Number.NaN;
    const packed = new Uint8Array(12).fill(3);
    const parameters = new Float32Array(6).fill(3);
    expect(() => quantizeKeyChannelBlock(keys, 4, 3, 4, packed, parameters)).toThrow(
      expect.objectContaining({ code: 'non-finite-value' }),
    );
    keys[11] = 1e6;
    expect(() => quantizeKeyChannelBlock(keys, 4, 3, 4, packed, parameters)).toThrow(
      expect.objectContaining({ code: 'out-of-fp16-range' }),
    );
    keys[11] = 1;
    expect(() => quantizeKeyChannelBlock(keys, 4, 3, 4, packed, new Float32Array(5))).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    expect(() => quantizeKeyChannelBlock(keys, 4, 3, 4, new Uint8Array(5), parameters)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    expect(() => quantizeKeyChannelBlock(keys, 5, 3, 4, packed, parameters)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    expect(() => quantizeKeyChannelBlock(keys, 4, 3, 16, packed, parameters)).toThrow(
      expect.objectContaining({ code: 'invalid-bit-width' }),
    );
    expect(() => quantizeTokensUniform(keys, 0, 0, 3, 4, packed, 0, parameters, 0)).toThrow(
      expect.objectContaining({ code: 'out-of-bounds' }),
    );
    keys[5] = Infinity;
    expect(() => quantizeTokensUniform(keys, 0, 3, 4, 4, packed, 0, parameters, 0)).toThrow(
      expect.objectContaining({ code: 'non-finite-value' }),
    );
    expect(packed.every((byte) => byte === 3)).toBe(true);
    expect(parameters.every((value) => value === 3)).toBe(true);
  });
});
