import { describe, expect, it } from 'vitest';
import { readGguf } from '@qaq/gguf';
import { buildDecoderModel } from './build-decoder.js';
import { DecoderRunner } from './testing/decoder-runner.test-utils.js';
import { heavyTests, modelAvailable, readModelBytes } from './testing/model-files.test-utils.js';

describe('Gemma 3 sliding-window layers', () => {
  it.runIf(heavyTests && modelAvailable('gemma3'))(
    'give the same logits whether sliding layers get their whole past or only the last window − 1 tokens',
    async () => {
      const bytes = readModelBytes('gemma3');
      const built = buildDecoderModel(readGguf(bytes), bytes, { lastLogitsOnly: true });
      const { slidingWindow, layerKinds } = built.config;
      expect(slidingWindow).toBe(512);
      const runner = await DecoderRunner.create(built.model, built.config, 600);
      const prompt = Array.from({ length: 540 }, (_, index) => 1000 + ((index * 7919) % 20000));
      await runner.run(prompt);
      const full = Float32Array.from(await runner.run([4242]));
      runner.truncate(prompt.length);
      const windowed = await runner.run([4242], (layer) => (layerKinds[layer] === 'sliding' ? slidingWindow! - 1 : undefined));
      // A missing or wrong window mask lets the full past reach the sliding layers and changes these logits.
      const largest = full.reduce((max, value) => Math.max(max, Math.abs(value)), 0);
      let difference = 0;
      full.forEach((value, index) => (difference = Math.max(difference, Math.abs(value - windowed[index]!))));
      expect(difference / largest).toBeLessThan(1e-5);
      // Control: dropping one more token than the window allows must change the result.
      runner.truncate(prompt.length);
      const tooShort = await runner.run([4242], (layer) => (layerKinds[layer] === 'sliding' ? slidingWindow! - 2 : undefined));
      let controlDifference = 0;
      full.forEach((value, index) => (controlDifference = Math.max(controlDifference, Math.abs(value - tooShort[index]!))));
      expect(controlDifference / largest).toBeGreaterThan(1e-4);
      await runner.release();
    },
  );
});
